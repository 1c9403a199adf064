"""What coding agents send on /v1/messages, through the real Anthropic SDK: the field policy,
forwarded betas, thinking with its signature, prompt caching, count_tokens."""

from __future__ import annotations

import json

import anthropic
import pytest

BETAS = ["claude-code-20250219", "interleaved-thinking-2025-05-14",
         "context-management-2025-06-27"]
CACHED = {"type": "ephemeral"}
BASH = {"name": "Bash", "description": "Run a command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}},
                         "required": ["command"]},
        "cache_control": CACHED}
HELLO = [{"role": "user", "content": [{"type": "text", "text": "hello there",
                                       "cache_control": CACHED}]}]


def agent_request(model: str) -> dict:
    """The shape of a Claude Code request (system blocks, tools, thinking, betas...)."""
    return dict(
        model=model, max_tokens=32000, betas=BETAS, messages=HELLO, timeout=30,
        system=[{"type": "text", "text": "You are Claude Code."},
                {"type": "text", "text": "Be terse.", "cache_control": CACHED}],
        tools=[BASH], thinking={"type": "enabled", "budget_tokens": 31999},
        metadata={"user_id": "user_abc_session_1"},
        extra_body={"context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
                    "output_config": {"effort": "high"}})


def test_an_agent_request_reaches_an_anthropic_vendor_with_every_field_unchanged(
        anthropic_client, fake_vendor):
    response = anthropic_client.beta.messages.with_raw_response.create(
        **agent_request("anthropic/fake-chat"))
    message = response.parse()
    assert message.content[-1].text == "Echo: hello there"
    assert "x-parlor-dropped" not in response.headers
    sent = fake_vendor.last_request
    assert sent.query.get("beta") is None  # Parlor calls the plain endpoint, with the header
    assert sent.headers["anthropic-beta"] == ",".join(BETAS)
    body = sent.body
    assert body["context_management"] == {"edits": [{"type": "clear_thinking_20251015"}]}
    assert body["output_config"] == {"effort": "high"}
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 31999}
    assert body["metadata"] == {"user_id": "user_abc_session_1"}
    assert body["system"][1] == {"type": "text", "text": "Be terse.", "cache_control": CACHED}
    assert body["tools"][0]["cache_control"] == CACHED
    assert body["messages"][0]["content"][0]["cache_control"] == CACHED
    assert body["max_tokens"] == 32000


def test_an_agent_request_to_an_openai_model_is_translated_and_names_what_it_dropped(
        anthropic_client, fake_vendor):
    response = anthropic_client.beta.messages.with_raw_response.create(
        **agent_request("openai/fake-chat"))
    assert response.parse().content[-1].text == "Echo: hello there"
    assert response.headers["x-parlor-dropped"] == "context_management"
    body = fake_vendor.last_request.body
    assert body["reasoning_effort"] == "high"  # output_config.effort, else the budget's effort
    assert body["messages"][0] == {"role": "system",
                                   "content": "You are Claude Code.\nBe terse."}
    assert body["tools"][0]["function"]["name"] == "Bash"
    assert "context_management" not in body and "thinking" not in body
    assert "anthropic-beta" not in fake_vendor.last_request.headers


def test_agent_system_turns_and_tool_fields_stay_as_sent_for_an_anthropic_vendor(
        anthropic_client, fake_vendor):
    deferred = {**BASH, "name": "Later", "defer_loading": True}
    messages = HELLO + [{"role": "system", "content": "<environment>cwd: /srv</environment>"}]
    anthropic_client.beta.messages.create(
        model="anthropic/fake-chat", max_tokens=100, betas=BETAS, messages=messages,
        system="You are Claude Code.", tools=[BASH, deferred])
    body = fake_vendor.last_request.body
    assert body["system"] == "You are Claude Code."
    assert body["messages"][1] == {"role": "system", "content": [
        {"type": "text", "text": "<environment>cwd: /srv</environment>"}]}
    assert body["tools"][1]["defer_loading"] is True
    anthropic_client.beta.messages.create(
        model="openai/fake-chat", max_tokens=100, betas=BETAS, messages=messages,
        system="You are Claude Code.", tools=[BASH, deferred])
    body = fake_vendor.last_request.body
    assert [m["role"] for m in body["messages"]] == ["system", "user", "system"]
    assert "defer_loading" not in json.dumps(body)


def test_beta_query_string_is_accepted(live_server, member_key):
    import httpx2

    answer = httpx2.post(f"{live_server}/v1/messages?beta=true", headers={
        "x-api-key": member_key, "anthropic-version": "2023-06-01"},
        json={"model": "anthropic/fake-chat", "max_tokens": 10, "messages": HELLO})
    assert answer.status_code == 200
    assert answer.json()["content"][0]["text"] == "Echo: hello there"


def test_thinking_streams_with_its_signature_and_goes_back_on_the_next_turn(
        anthropic_client, fake_vendor):
    with anthropic_client.messages.stream(
            model="anthropic/fake-thinking", max_tokens=4000, messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 1024}) as stream:
        events = [event.type for event in stream]
        first = stream.get_final_message()
    thinking = first.content[0]
    assert thinking.type == "thinking" and thinking.signature
    assert thinking.thinking.startswith("The user wants an echo.")
    assert first.content[1].text == "Echo: hello there"
    assert "thinking" in events and "signature" in events
    follow_up = HELLO + [{"role": "assistant", "content": [b.model_dump() for b in first.content]},
                         {"role": "user", "content": "and again"}]
    second = anthropic_client.messages.create(
        model="anthropic/fake-thinking", max_tokens=4000, messages=follow_up,
        thinking={"type": "enabled", "budget_tokens": 1024})
    assert second.content[-1].text == "Echo: and again"
    sent_back = fake_vendor.last_request.body["messages"][1]["content"][0]
    assert sent_back == {"type": "thinking", "thinking": thinking.thinking,
                         "signature": thinking.signature}


def test_a_tampered_thinking_signature_is_the_vendors_400(anthropic_client):
    forged = [{"type": "thinking", "thinking": "I decided.", "signature": "forged"},
              {"type": "text", "text": "ok"}]
    with pytest.raises(anthropic.BadRequestError, match="signature"):
        anthropic_client.messages.create(
            model="anthropic/fake-thinking", max_tokens=4000,
            messages=HELLO + [{"role": "assistant", "content": forged},
                              {"role": "user", "content": "next"}])


def test_plain_thinking_answer_keeps_the_block_first(anthropic_client):
    message = anthropic_client.messages.create(
        model="anthropic/fake-thinking", max_tokens=4000, messages=HELLO)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].signature


def test_openai_reasoning_text_reaches_an_anthropic_client_as_a_thinking_block(
        anthropic_client):
    message = anthropic_client.messages.create(
        model="openai/fake-reasoning", max_tokens=100, messages=HELLO)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking.startswith("The user wants an echo.")


def test_prompt_cache_tokens_are_reported_in_anthropic_usage(anthropic_client):
    ask = dict(model="anthropic/fake-chat", max_tokens=10, tools=[BASH],
               system=[{"type": "text", "text": "Long stable prefix", "cache_control": CACHED}],
               messages=[{"role": "user", "content": "one two three"}])
    first = anthropic_client.messages.create(**ask).usage
    second = anthropic_client.messages.create(**ask).usage
    assert first.cache_creation_input_tokens > 0 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.input_tokens == 0  # all of it read from the cache


def test_count_tokens_is_forwarded_to_anthropic_vendors(anthropic_client, fake_vendor):
    counted = anthropic_client.messages.count_tokens(
        model="anthropic/fake-chat", messages=[{"role": "user", "content": "one two three"}])
    assert counted.input_tokens == 6  # the fake's count: three words + 3
    assert fake_vendor.last_request.path == "/v1/messages/count_tokens"


def test_count_tokens_is_estimated_for_other_vendors(anthropic_client, fake_vendor):
    counted = anthropic_client.messages.count_tokens(
        model="openai/fake-chat", messages=[{"role": "user", "content": "x" * 400}])
    assert counted.input_tokens == 100  # four characters a token
    assert fake_vendor.requests == []


def test_count_tokens_for_an_unknown_model_is_a_404_in_anthropic_shape(anthropic_client):
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.messages.count_tokens(
            model="nope/none", messages=[{"role": "user", "content": "hi"}])
