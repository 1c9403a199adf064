"""POST /v1/messages/count_tokens through the real Anthropic SDK: forwarded to Anthropic
vendors, estimated (four characters a token) for the others, never a completion in the ledger."""

from __future__ import annotations

import json

import anthropic
import httpx2
import pytest

BETA = "context-management-2025-06-27"
TOOL = {"name": "lookup", "description": "Look something up",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}


def test_count_tokens_is_forwarded_to_anthropic_vendors(anthropic_client, fake_vendor):
    counted = anthropic_client.messages.count_tokens(
        model="anthropic/fake-chat", messages=[{"role": "user", "content": "one two three"}])
    assert counted.input_tokens == 6  # the fake's count: three words + 3
    assert fake_vendor.last_request.path == "/v1/messages/count_tokens"


def test_count_tokens_sends_the_translated_body_and_the_betas(anthropic_client, fake_vendor):
    counted = anthropic_client.beta.messages.count_tokens(
        model="anthropic/fake-chat", betas=[BETA], tools=[TOOL],
        system=[{"type": "text", "text": "Be terse", "cache_control": {"type": "ephemeral"}}],
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=[{"role": "user", "content": "one two three"}])
    assert counted.input_tokens == 3 + 2 + 4 + 3  # words: messages, system, tool; + 3
    sent = fake_vendor.last_request
    assert BETA in sent.headers["anthropic-beta"].split(",")  # with the SDK's own count beta
    assert sent.body == {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "one two three"}]}],
        "model": "fake-chat",
        "system": [{"type": "text", "text": "Be terse", "cache_control": {"type": "ephemeral"}}],
        "tools": [TOOL], "thinking": {"type": "enabled", "budget_tokens": 2048}}


def test_count_tokens_is_estimated_for_other_vendors(anthropic_client, fake_vendor):
    counted = anthropic_client.messages.count_tokens(
        model="openai/fake-chat", messages=[{"role": "user", "content": "x" * 400}])
    assert counted.input_tokens == 100  # four characters a token
    assert fake_vendor.requests == []


def test_the_estimate_counts_the_system_prompt_and_the_tools(anthropic_client):
    bare = anthropic_client.messages.count_tokens(
        model="openai/fake-chat", messages=[{"role": "user", "content": "x" * 40}])
    full = anthropic_client.messages.count_tokens(
        model="openai/fake-chat", system="y" * 40, tools=[TOOL],
        messages=[{"role": "user", "content": "x" * 40}])
    tool_chars = len("lookup" + "Look something up" + json.dumps(TOOL["input_schema"]))
    assert full.input_tokens == -(-(80 + tool_chars) // 4) > bare.input_tokens == 10


def test_count_tokens_is_not_a_completion_in_the_usage_ledger(anthropic_client, usage_records):
    anthropic_client.messages.count_tokens(
        model="anthropic/fake-chat", messages=[{"role": "user", "content": "hi"}])
    anthropic_client.messages.count_tokens(
        model="openai/fake-chat", messages=[{"role": "user", "content": "hi"}])
    anthropic_client.messages.create(model="anthropic/fake-chat", max_tokens=10,
                                     messages=[{"role": "user", "content": "hi"}])
    assert [r["model"] for r in usage_records()] == ["anthropic/fake-chat"]


def test_count_tokens_answers_under_the_doubled_v1_too(live_server, member_key):
    answer = httpx2.post(f"{live_server}/v1/v1/messages/count_tokens",
                         headers={"x-api-key": member_key},
                         json={"model": "openai/fake-chat",
                               "messages": [{"role": "user", "content": "abcdefgh"}]})
    assert answer.status_code == 200 and answer.json() == {"input_tokens": 2}


def test_count_tokens_for_an_unknown_model_is_a_404_in_anthropic_shape(anthropic_client):
    with pytest.raises(anthropic.NotFoundError) as caught:
        anthropic_client.messages.count_tokens(
            model="nope/none", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["error"]["type"] == "not_found_error"


def test_a_malformed_count_tokens_body_is_a_400_in_anthropic_shape(live_server, member_key):
    answer = httpx2.post(f"{live_server}/v1/messages/count_tokens",
                         headers={"x-api-key": member_key},
                         json={"model": "anthropic/fake-chat", "messages": []})
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_count_tokens_needs_a_key(live_server):
    answer = httpx2.post(f"{live_server}/v1/messages/count_tokens",
                         json={"model": "anthropic/fake-chat",
                               "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "authentication_error"
