"""POST /v1/messages through the real Anthropic SDK over HTTP, to both vendors."""

from __future__ import annotations

import json

import anthropic
import pytest

LOOKUP = {"name": "lookup", "description": "Look something up",
          "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}
HELLO = [{"role": "user", "content": "hello there"}]


@pytest.mark.parametrize("model", ["anthropic/fake-chat", "openai/fake-chat"])
def test_plain_message_answers_in_anthropic_shape(anthropic_client, model):
    response = anthropic_client.messages.with_raw_response.create(
        model=model, max_tokens=100, messages=HELLO)
    message = response.parse()
    assert message.type == "message" and message.role == "assistant" and message.model == model
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "Echo: hello there"
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert (message.usage.input_tokens, message.usage.output_tokens) == (2, 3)
    assert response.headers["request-id"].startswith("req_")
    assert response.headers["x-parlor-route"] == model


@pytest.mark.parametrize("model", ["anthropic/length", "openai/length"])
def test_length_becomes_max_tokens(anthropic_client, model):
    message = anthropic_client.messages.create(model=model, max_tokens=50, messages=[
        {"role": "user", "content": "many words to be cut"}])
    assert message.stop_reason == "max_tokens"


def test_anthropic_request_to_an_openai_model_is_translated(anthropic_client, fake_vendor):
    anthropic_client.messages.create(
        model="openai/fake-chat", max_tokens=64, system=[{"type": "text", "text": "Be terse."}],
        stop_sequences=["zzz"], metadata={"user_id": "u-7"},
        messages=[{"role": "user", "content": [{"type": "text", "text": "translate me"}]}])
    sent = fake_vendor.last_request
    assert sent.path == "/v1/chat/completions"
    assert sent.body["messages"] == [{"role": "system", "content": "Be terse."},
                                     {"role": "user", "content": "translate me"}]
    assert sent.body["stop"] == ["zzz"] and sent.body["user"] == "u-7"
    assert sent.body["max_tokens"] == 64


@pytest.mark.parametrize("model", ["anthropic/fake-chat", "openai/fake-chat"])
def test_streamed_message_follows_the_event_sequence(anthropic_client, model, usage_records):
    events = list(anthropic_client.messages.create(
        model=model, max_tokens=100, stream=True, messages=HELLO))
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[1] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == (
        "Echo: hello there")
    delta = events[-2]
    assert delta.delta.stop_reason == "end_turn"
    assert (delta.usage.input_tokens, delta.usage.output_tokens) == (2, 3)
    record = usage_records()[-1]
    assert (record["input_tokens"], record["output_tokens"], record["status"]) == (
        2, 3, "complete")


def test_stream_helper_builds_the_final_message(anthropic_client):
    with anthropic_client.messages.stream(model="openai/fake-chat", max_tokens=100,
                                          messages=HELLO) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "Echo: hello there"
    assert final.usage.input_tokens == 2 and final.usage.output_tokens == 3


@pytest.mark.parametrize("model", ["anthropic/tool-call", "openai/tool-call"])
def test_tool_use_round_trip_on_either_vendor(anthropic_client, model):
    question = [{"role": "user", "content": "weather in Oslo"}]
    first = anthropic_client.messages.create(model=model, max_tokens=100, tools=[LOOKUP],
                                             messages=question)
    assert first.stop_reason == "tool_use"
    use = next(b for b in first.content if b.type == "tool_use")
    assert use.name == "lookup" and use.input == {"query": "weather in Oslo"}
    followup = question + [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                      "content": "snowing"}]}]
    second = anthropic_client.messages.create(model=model, max_tokens=100, tools=[LOOKUP],
                                              messages=followup)
    assert second.content[0].text == "Tool said: snowing"
    assert second.stop_reason == "end_turn"


@pytest.mark.parametrize("model", ["anthropic/tool-call", "openai/tool-call"])
def test_streamed_tool_use_arrives_as_input_json_deltas(anthropic_client, model):
    with anthropic_client.messages.stream(model=model, max_tokens=100, tools=[LOOKUP],
                                          tool_choice={"type": "any"},
                                          messages=[{"role": "user", "content": "find owls"}]
                                          ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert any(e.type == "input_json" for e in events)
    use = next(b for b in final.content if b.type == "tool_use")
    assert use.name == "lookup" and use.input == {"query": "find owls"}
    assert final.stop_reason == "tool_use"


def test_old_sdks_x_api_key_header_is_accepted(live_server, member_key):
    old_style = {"Authorization": anthropic.omit, "x-api-key": member_key,
                 "anthropic-version": "2023-06-01"}
    with anthropic.Anthropic(base_url=live_server, api_key="unused", max_retries=0,
                             default_headers=old_style) as client:
        message = client.messages.create(model="openai/fake-chat", max_tokens=10,
                                         messages=HELLO, extra_body={"temperature": 0.2})
    assert message.content[0].text == "Echo: hello there"


def test_sampling_parameters_are_refused_on_api_2026_10_21(anthropic_client):
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client.messages.create(model="openai/fake-chat", max_tokens=10,
                                         messages=HELLO, extra_body={"temperature": 0.2})
    assert caught.value.body["error"] == {
        "type": "invalid_request_error", "message": "temperature: Extra inputs are not permitted"}


def test_base_url_with_v1_still_reaches_messages(live_server, member_key):
    with anthropic.Anthropic(base_url=live_server + "/v1", api_key=member_key,
                             max_retries=0) as client:
        message = client.messages.create(model="anthropic/fake-chat", max_tokens=10,
                                         messages=HELLO)
    assert message.content[0].text == "Echo: hello there"


def test_image_blocks_reach_an_openai_vendor_as_image_url_parts(anthropic_client, fake_vendor):
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "iVBORw0KGgo="}}
    anthropic_client.messages.create(model="openai/fake-chat", max_tokens=10, messages=[
        {"role": "user", "content": [image, {"type": "text", "text": "what is this"}]}])
    assert fake_vendor.last_request.body["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "text", "text": "what is this"}]


def test_anthropic_upstream_sees_the_vendor_key(anthropic_client, fake_vendor, member_key):
    anthropic_client.messages.create(model="anthropic/fake-chat", max_tokens=10, messages=HELLO)
    upstream = fake_vendor.last_request
    assert fake_vendor.api_key in (upstream.headers.get("x-api-key", "")
                                   + upstream.headers.get("authorization", ""))
    assert member_key not in json.dumps(upstream.headers)
