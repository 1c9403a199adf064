"""The Messages field policy through the real Anthropic SDK: what a coding agent sends reaches
an Anthropic vendor unchanged, is translated or named in x-parlor-dropped for an OpenAI one,
and only genuinely invalid input is a 400."""

from __future__ import annotations

import json

import httpx2
import pytest

BETAS = ["claude-code-20250219", "interleaved-thinking-2025-05-14",
         "context-management-2025-06-27"]
CACHED = {"type": "ephemeral"}
BASH = {"name": "Bash", "description": "Run a command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}},
                         "required": ["command"]},
        "cache_control": CACHED}
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
CONTEXT_MANAGEMENT = {"edits": [{"type": "clear_thinking_20251015"}]}
HELLO = [{"role": "user", "content": [{"type": "text", "text": "hello there",
                                       "cache_control": CACHED}]}]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}


def agent_request(model: str) -> dict:
    """The shape of a Claude Code request (system blocks, tools, thinking, betas...)."""
    return dict(
        model=model, max_tokens=32000, betas=BETAS, messages=HELLO,
        timeout=60,  # a timeout of its own: else the SDK wants max_tokens this large streamed
        system=[{"type": "text", "text": "You are Claude Code."},
                {"type": "text", "text": "Be terse.", "cache_control": CACHED}],
        tools=[BASH, WEB_SEARCH],
        thinking={"type": "enabled", "budget_tokens": 31999, "display": "omitted"},
        extra_body={"context_management": CONTEXT_MANAGEMENT,
                    "output_config": {"effort": "high"},
                    "metadata": {"user_id": "user_abc_session_1", "session": "s-1"}})


def test_an_agent_request_reaches_an_anthropic_vendor_with_every_field_unchanged(
        anthropic_client, fake_vendor):
    response = anthropic_client.beta.messages.with_raw_response.create(
        **agent_request("anthropic/fake-chat"))
    assert response.parse().content[-1].text == "Echo: hello there"
    assert "x-parlor-dropped" not in response.headers
    sent = fake_vendor.last_request
    assert sent.query.get("beta") is None  # Parlor calls the plain endpoint, with the header
    assert sent.headers["anthropic-beta"] == ",".join(BETAS)
    assert sent.headers["anthropic-version"] == "2026-10-21"  # the client's, sent once
    body = sent.body
    assert body["context_management"] == CONTEXT_MANAGEMENT
    assert body["output_config"] == {"effort": "high"}
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 31999, "display": "omitted"}
    assert body["metadata"] == {"user_id": "user_abc_session_1", "session": "s-1"}
    assert body["system"] == [{"type": "text", "text": "You are Claude Code."},
                              {"type": "text", "text": "Be terse.", "cache_control": CACHED}]
    assert body["tools"] == [BASH, WEB_SEARCH]
    assert body["messages"] == HELLO
    assert body["max_tokens"] == 32000


def test_an_agent_request_to_an_openai_model_is_translated_and_names_what_it_dropped(
        anthropic_client, fake_vendor):
    response = anthropic_client.beta.messages.with_raw_response.create(
        **agent_request("openai/fake-chat"))
    assert response.parse().content[-1].text == "Echo: hello there"
    assert response.headers["x-parlor-dropped"] == "context_management,metadata,web_search"
    body = fake_vendor.last_request.body
    assert body["reasoning_effort"] == "high"  # output_config.effort, else the budget's effort
    assert body["messages"][0]["role"] == "system"
    assert "You are Claude Code." in body["messages"][0]["content"]
    assert [t["function"]["name"] for t in body["tools"]] == ["Bash"]
    assert "context_management" not in body and "thinking" not in body
    assert "anthropic-beta" not in fake_vendor.last_request.headers


def test_a_streamed_request_names_what_it_dropped_too(anthropic_client):
    with anthropic_client.messages.with_streaming_response.create(
            model="openai/fake-chat", max_tokens=100, messages=HELLO, stream=True,
            extra_body={"context_management": CONTEXT_MANAGEMENT}) as response:
        assert response.headers["x-parlor-dropped"] == "context_management"
        assert "message_stop" in "".join(response.iter_lines())


def test_beta_query_string_is_accepted(live_server, member_key):
    answer = httpx2.post(f"{live_server}/v1/messages?beta=true", headers={
        "x-api-key": member_key, "anthropic-version": "2023-06-01"},
        json={"model": "anthropic/fake-chat", "max_tokens": 10, "messages": HELLO})
    assert answer.status_code == 200
    assert answer.json()["content"][0]["text"] == "Echo: hello there"


def test_blocks_parlor_does_not_read_reach_an_anthropic_vendor_as_sent(
        anthropic_client, fake_vendor):
    search = {"type": "search_result", "source": "https://example.com/owls", "title": "Owls",
              "content": [{"type": "text", "text": "Owls hoot."}],
              "citations": {"enabled": True}}
    cited = {"type": "text", "text": "Owls hoot [1].", "citations": [
        {"type": "search_result_location", "source": "https://example.com/owls",
         "title": "Owls", "cited_text": "Owls hoot.", "search_result_index": 0,
         "start_block_index": 0, "end_block_index": 1}]}
    messages = [{"role": "user", "content": [search, {"type": "text", "text": "owls?"}]},
                {"role": "assistant", "content": [cited]},
                {"role": "user", "content": "thanks"}]
    anthropic_client.messages.create(model="anthropic/fake-chat", max_tokens=10,
                                     messages=messages)
    sent = fake_vendor.last_request.body["messages"]
    assert sent[:2] == messages[:2]
    assert sent[2] == {"role": "user", "content": [{"type": "text", "text": "thanks"}]}


def test_blocks_parlor_does_not_read_are_named_when_dropped_for_an_openai_vendor(
        anthropic_client, fake_vendor):
    search = {"type": "search_result", "source": "s", "title": "t",
              "content": [{"type": "text", "text": "x"}]}
    response = anthropic_client.messages.with_raw_response.create(
        model="openai/fake-chat", max_tokens=10,
        messages=[{"role": "user", "content": [search, {"type": "text", "text": "hi"}]}])
    assert response.headers["x-parlor-dropped"] == "search_result"
    assert fake_vendor.last_request.body["messages"] == [{"role": "user", "content": "hi"}]


def test_images_and_documents_reach_an_anthropic_vendor_as_sent(anthropic_client, fake_vendor):
    url_image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    text_doc = {"type": "document", "title": "notes.txt", "source": {
        "type": "text", "media_type": "text/plain", "data": "line one"}}
    pdf_url = {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"},
               "citations": {"enabled": True}, "cache_control": CACHED}
    messages = [
        {"role": "user", "content": [IMAGE, url_image, text_doc, pdf_url,
                                     {"type": "text", "text": "compare them"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash",
                                           "input": {"command": "screenshot"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "is_error": True, "content": [
                                          {"type": "text", "text": "partial"}, IMAGE]}]}]
    anthropic_client.messages.create(model="anthropic/fake-chat", max_tokens=10, tools=[BASH],
                                     messages=messages)
    assert fake_vendor.last_request.body["messages"] == messages


def test_an_image_in_a_tool_result_reaches_an_openai_vendor_as_a_data_url(
        anthropic_client, fake_vendor):
    anthropic_client.messages.create(model="openai/fake-chat", max_tokens=10, tools=[BASH],
                                     messages=[
        {"role": "user", "content": "look"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash",
                                           "input": {"command": "shot"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": [IMAGE]}]}])
    sent = json.dumps(fake_vendor.last_request.body)
    assert f"data:image/png;base64,{PNG}" in sent


@pytest.mark.parametrize(("body", "complaint"), [
    ({"messages": HELLO}, "max_tokens"),
    ({"max_tokens": 10, "messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
    ({"max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "image"}]}]},
     "a image block needs 'source'"),
    ({"max_tokens": 10, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png"}}]}]},
     "a base64 source needs 'data'"),
    ({"max_tokens": 10, "messages": HELLO, "thinking": {"type": "enabled"}}, "budget_tokens"),
    ({"max_tokens": 10, "messages": HELLO, "thinking": {"type": "sometimes"}}, "thinking.type"),
    ({"max_tokens": 10, "messages": [{"role": "user", "content": [{"text": "no type"}]}]},
     "a content block needs a 'type'"),
])
def test_invalid_input_is_a_clear_400_in_anthropic_shape(live_server, member_key, body,
                                                          complaint):
    answer = httpx2.post(f"{live_server}/v1/messages", headers={"x-api-key": member_key},
                         json={"model": "anthropic/fake-chat", **body})
    assert answer.status_code == 400
    error = answer.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert complaint in error["error"]["message"]


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"},
                                           "days": {"type": "integer"}},
          "required": ["city", "days"]}
FORMAT = {"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}}


def test_structured_output_comes_back_as_json_text_through_a_forced_tool(
        anthropic_client, fake_vendor):
    message = anthropic_client.messages.create(
        model="anthropic/fake-chat", max_tokens=100, extra_body=FORMAT,
        messages=[{"role": "user", "content": "Paris"}])
    assert [b.type for b in message.content] == ["text"]
    assert json.loads(message.content[0].text) == {"city": "Paris", "days": 1}
    assert message.stop_reason == "end_turn"
    sent = fake_vendor.last_request.body
    assert sent["tool_choice"] == {"type": "tool", "name": "response"}
    assert sent["tools"][0]["input_schema"] == SCHEMA
    assert "output_config" not in sent


def test_structured_output_streams_as_json_text(anthropic_client):
    with anthropic_client.messages.stream(
            model="anthropic/fake-chat", max_tokens=100, extra_body=FORMAT,
            messages=[{"role": "user", "content": "Oslo"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert json.loads(text) == {"city": "Oslo", "days": 1}
    assert final.stop_reason == "end_turn"


def test_prompt_cache_tokens_are_reported_in_anthropic_usage(anthropic_client, fake_vendor):
    ask = dict(model="anthropic/fake-chat", max_tokens=10, tools=[BASH],
               system=[{"type": "text", "text": "Long stable prefix", "cache_control": CACHED}],
               messages=[{"role": "user", "content": "one two three"}])
    first = anthropic_client.messages.create(**ask).usage
    second = anthropic_client.messages.create(**ask).usage
    assert first.cache_creation_input_tokens > 0 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.input_tokens == 0  # all of it read from the cache
    assert fake_vendor.last_request.body["system"][0]["cache_control"] == CACHED


def test_prompt_cache_tokens_are_reported_on_a_stream(anthropic_client):
    ask = dict(model="anthropic/fake-chat", max_tokens=10,
               system=[{"type": "text", "text": "Streamed prefix", "cache_control": CACHED}],
               messages=[{"role": "user", "content": "one two"}])
    anthropic_client.messages.create(**ask)
    with anthropic_client.messages.stream(**ask) as stream:
        usage = stream.get_final_message().usage
    assert usage.cache_read_input_tokens > 0 and usage.input_tokens == 0
