"""POST /v1/chat/completions through the real OpenAI SDK over HTTP, to both vendors."""

from __future__ import annotations

import json
import time

import pytest

LOOKUP = {"type": "function", "function": {
    "name": "lookup", "description": "Look something up",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}


def test_plain_completion_answers_in_openai_shape(openai_client):
    response = openai_client.chat.completions.with_raw_response.create(
        model="openai/fake-chat", messages=[{"role": "user", "content": "hello there"}])
    completion = response.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "openai/fake-chat"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Echo: hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (2, 3)
    assert completion.usage.total_tokens == 5
    assert response.headers["x-parlor-route"] == "openai/fake-chat"
    assert response.headers["x-request-id"].startswith("req_")


def test_upstream_sees_the_vendor_key_never_the_parlor_key(openai_client, fake_vendor,
                                                           member_key):
    openai_client.chat.completions.create(
        model="openai/fake-chat", messages=[{"role": "user", "content": "hi"}])
    openai_client.chat.completions.create(
        model="anthropic/fake-chat", messages=[{"role": "user", "content": "hi"}])
    chats = [r for r in fake_vendor.requests if r.method == "POST"]
    assert len(chats) == 2
    for upstream in chats:
        presented = upstream.headers.get("authorization", "") + upstream.headers.get(
            "x-api-key", "")
        assert fake_vendor.api_key in presented
        assert member_key not in json.dumps(upstream.headers) + json.dumps(upstream.body)


def test_system_prompt_stop_and_max_tokens_reach_the_vendor(openai_client, fake_vendor):
    completion = openai_client.chat.completions.create(
        model="openai/fake-chat", max_tokens=2, temperature=0.5, stop=["zzz"], seed=7, user="u1",
        metadata={"team": "a"}, store=False,
        messages=[{"role": "developer", "content": "Be brief."},
                  {"role": "user", "content": [{"type": "text", "text": "one two three"}]}])
    assert completion.choices[0].message.content == "Echo: one "
    assert completion.choices[0].finish_reason == "length"
    sent = fake_vendor.last_request.body
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["stop"] == ["zzz"] and sent["temperature"] == 0.5
    # fields Parlor does not interpret reach an OpenAI-type vendor unchanged
    assert (sent["seed"], sent["metadata"], sent["store"]) == (7, {"team": "a"}, False)


def test_fields_without_a_counterpart_are_dropped_for_anthropic_and_named(openai_client,
                                                                          fake_vendor):
    response = openai_client.chat.completions.with_raw_response.create(
        model="anthropic/fake-chat", seed=7, metadata={"team": "a"}, store=False,
        service_tier="auto", extra_body={"brand_new_field": 1},
        messages=[{"role": "user", "content": "hi"}])
    assert response.parse().choices[0].message.content == "Echo: hi"
    assert sorted(response.headers["x-parlor-dropped"].split(",")) == sorted([
        "seed", "metadata", "store", "service_tier", "brand_new_field"])
    sent = fake_vendor.last_request.body
    assert not {"seed", "metadata", "store", "service_tier", "brand_new_field"} & set(sent)


def test_nothing_dropped_means_no_dropped_header(openai_client):
    response = openai_client.chat.completions.with_raw_response.create(
        model="openai/fake-chat", seed=7, messages=[{"role": "user", "content": "hi"}])
    assert "x-parlor-dropped" not in response.headers


def test_streamed_completion_sends_role_once_then_finish_usage_and_done(openai_client,
                                                                       usage_records):
    stream = openai_client.chat.completions.create(
        model="openai/fake-chat", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "hello streaming world"}])
    chunks = list(stream)
    roles = [c.choices[0].delta.role for c in chunks if c.choices and c.choices[0].delta.role]
    assert roles == ["assistant"]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: hello streaming world"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4
    assert chunks[-1].usage.prompt_tokens == 3
    record = usage_records()[-1]
    assert (record["input_tokens"], record["output_tokens"], record["status"]) == (
        3, 4, "complete")


def test_stream_without_include_usage_sends_no_usage_chunk(openai_client):
    chunks = list(openai_client.chat.completions.create(
        model="openai/fake-chat", stream=True, messages=[{"role": "user", "content": "hi"}]))
    assert all(c.choices for c in chunks)
    assert all(getattr(c, "usage", None) is None for c in chunks)


def test_stream_helper_accumulates_a_clean_snapshot(openai_client):
    with openai_client.chat.completions.stream(
            model="anthropic/fake-chat", messages=[{"role": "user", "content": "snap shot"}],
            stream_options={"include_usage": True}) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].message.content == "Echo: snap shot"
    assert final.usage.total_tokens == 5


def test_stream_response_headers_keep_proxies_from_buffering(openai_client):
    with openai_client.chat.completions.with_streaming_response.create(
            model="openai/fake-chat", stream=True,
            messages=[{"role": "user", "content": "hi"}]) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["x-parlor-route"] == "openai/fake-chat"
        assert response.headers["x-request-id"]
        body = "".join(response.iter_text())
    assert body.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize("model", ["openai/tool-call", "anthropic/tool-call"])
def test_tool_call_round_trip_on_either_vendor(openai_client, model):
    question = [{"role": "user", "content": "weather in Paris"}]
    first = openai_client.chat.completions.create(model=model, messages=question,
                                                  tools=[LOOKUP], tool_choice="auto")
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "lookup"
    assert json.loads(call.function.arguments) == {"query": "weather in Paris"}
    followup = question + [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    second = openai_client.chat.completions.create(model=model, messages=followup,
                                                   tools=[LOOKUP])
    assert second.choices[0].message.content == "Tool said: sunny"
    assert second.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", ["openai/tool-call", "anthropic/tool-call"])
def test_streamed_tool_call_assembles_with_the_sdk_helper(openai_client, model):
    with openai_client.chat.completions.stream(
            model=model, tools=[LOOKUP],
            messages=[{"role": "user", "content": "find cats"}]) as stream:
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].type == "function"
    assert choice.message.tool_calls[0].function.name == "lookup"
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"query": "find cats"}


def test_openai_request_to_an_anthropic_model_is_translated(openai_client, fake_vendor,
                                                           usage_records):
    completion = openai_client.chat.completions.create(
        model="anthropic/fake-chat", max_tokens=1,
        messages=[{"role": "system", "content": "Be terse."},
                  {"role": "user", "content": "cut me short"}])
    assert completion.choices[0].finish_reason == "length"  # Anthropic's max_tokens
    sent = fake_vendor.last_request
    assert sent.path == "/v1/messages"
    assert sent.body["system"] == "Be terse." and sent.body["max_tokens"] == 1
    assert usage_records()[-1]["route"] == "anthropic/fake-chat"


def test_streamed_openai_request_to_an_anthropic_model(openai_client):
    chunks = list(openai_client.chat.completions.create(
        model="anthropic/fake-chat", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "across formats"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Echo: across formats")
    assert chunks[-1].usage.prompt_tokens == 2 and chunks[-1].usage.completion_tokens == 3


def test_every_completion_writes_one_usage_record(openai_client, usage_records, key_row,
                                                  member_key):
    openai_client.chat.completions.create(
        model="openai/fake-chat", messages=[{"role": "user", "content": "count me"}])
    list(openai_client.chat.completions.create(
        model="anthropic/fake-chat", stream=True,
        messages=[{"role": "user", "content": "count me too"}]))
    key = key_row(member_key)
    records = usage_records()
    assert [(r["model"], r["input_tokens"], r["output_tokens"], r["status"]) for r in records] == [
        ("openai/fake-chat", 2, 3, "complete"), ("anthropic/fake-chat", 3, 4, "complete")]
    assert all(r["source"] == "api" and r["api_key_id"] == key.id and r["user_id"] == key.user_id
               for r in records)
    assert key.last_used_at is not None


def test_client_hanging_up_closes_the_upstream_and_records_a_stopped_call(openai_client,
                                                                          fake_vendor,
                                                                          usage_records):
    with openai_client.chat.completions.create(
            model="openai/slow-stream", stream=True,
            messages=[{"role": "user", "content": "go"}]) as stream:
        for received, _ in enumerate(stream):
            if received == 3:
                break
    assert fake_vendor.wait_for_disconnect("slow-stream", timeout=10)
    records = _eventually(usage_records)
    assert records[-1]["status"] == "stopped" and records[-1]["output_tokens"] > 0


def _eventually(read, attempts=200):
    """The server writes the record once it notices the client left; wait for it."""
    for _ in range(attempts):
        if rows := read():
            return rows
        time.sleep(0.02)
    return read()
