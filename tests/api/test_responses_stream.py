"""Streamed POST /v1/responses through the real OpenAI SDK over HTTP: the event sequence,
the SDK's stream helper, function calls, storage and failures."""

from __future__ import annotations

import json

import openai
import pytest

LOOKUP = {"type": "function", "name": "lookup",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}
TEXT_ITEM = ["response.output_item.added", "response.content_part.added",
             "response.output_text.delta", "response.output_text.done",
             "response.content_part.done", "response.output_item.done"]
CALL_ITEM = ["response.output_item.added", "response.function_call_arguments.delta",
             "response.function_call_arguments.done", "response.output_item.done"]


def _kinds(events) -> list[str]:
    """Event types in order, runs of deltas counted once."""
    kinds: list[str] = []
    for event in events:
        if not (kinds and kinds[-1] == event.type and event.type.endswith(".delta")):
            kinds.append(event.type)
    return kinds


def test_streamed_text_sends_the_real_event_sequence(openai_client, usage_records):
    events = list(openai_client.responses.create(model="openai/fake-chat", stream=True,
                                                 input="hello streaming world"))
    assert _kinds(events) == ["response.created", "response.in_progress", *TEXT_ITEM,
                              "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].response.status == "in_progress" and events[0].response.output == []
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Echo: hello streaming world"
    item_id = events[2].item.id
    assert all(e.item_id == item_id for e in events if hasattr(e, "item_id"))
    done = events[-1].response
    assert done.id == events[0].response.id and done.status == "completed"
    assert done.output_text == text and done.output[0].id == item_id
    assert (done.usage.input_tokens, done.usage.output_tokens) == (3, 4)
    record = usage_records()[-1]
    assert (record["input_tokens"], record["output_tokens"], record["status"]) == (
        3, 4, "complete")


def test_events_are_named_sse_frames(openai_client):
    with openai_client.responses.with_streaming_response.create(
            model="openai/fake-chat", stream=True, input="hi") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-parlor-route"] == "openai/fake-chat"
        body = "".join(response.iter_text())
    frames = [frame for frame in body.split("\n\n") if frame]
    for frame in frames:
        name, data = frame.split("\n")
        assert name.removeprefix("event: ") == json.loads(data.removeprefix("data: "))["type"]
    assert frames[-1].startswith("event: response.completed\n")


@pytest.mark.parametrize("model", ["openai/fake-chat", "anthropic/fake-chat"])
def test_stream_helper_gives_the_final_response(openai_client, model):
    with openai_client.responses.stream(model=model, input="snap shot") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Echo: snap shot"
    assert final.status == "completed" and final.usage.total_tokens == 5


@pytest.mark.parametrize(("model", "items"), [
    ("openai/tool-call", [CALL_ITEM]),
    ("anthropic/tool-call", [TEXT_ITEM, CALL_ITEM]),  # "Let me check." then the call
])
def test_streamed_function_call_has_argument_events_and_assembles(openai_client, model,
                                                                  items):
    with openai_client.responses.stream(model=model, input="find cats",
                                        tools=[LOOKUP]) as stream:
        events = list(stream)
        final = stream.get_final_response()
    expected = ["response.created", "response.in_progress"]
    for item in items:
        expected += item
    assert _kinds(events) == [*expected, "response.completed"]
    call = final.output[-1]
    assert (call.type, call.name, call.status) == ("function_call", "lookup", "completed")
    assert json.loads(call.arguments) == {"query": "find cats"}
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert done.arguments == call.arguments and done.item_id == call.id


def test_streamed_response_is_stored_and_continued(openai_client, fake_vendor):
    with openai_client.responses.stream(model="anthropic/fake-chat",
                                        input="remember this") as stream:
        final = stream.get_final_response()
    stored = openai_client.responses.retrieve(final.id)
    assert (stored.status, stored.output_text, stored.output[0].id, stored.usage) == (
        "completed", "Echo: remember this", final.output[0].id, final.usage)
    events = list(openai_client.responses.create(model="openai/fake-chat", stream=True,
                                                 input="and then",
                                                 previous_response_id=final.id))
    assert events[-1].response.previous_response_id == final.id
    assert fake_vendor.last_request.body["messages"] == [
        {"role": "user", "content": "remember this"},
        {"role": "assistant", "content": "Echo: remember this"},
        {"role": "user", "content": "and then"}]


def test_stream_cut_short_by_max_output_tokens_ends_incomplete(openai_client):
    events = list(openai_client.responses.create(model="openai/fake-chat", stream=True,
                                                 input="one two three four",
                                                 max_output_tokens=2))
    last = events[-1]
    assert last.type == "response.incomplete"
    assert last.response.incomplete_details.reason == "max_output_tokens"
    assert last.response.output[0].status == "incomplete"


@pytest.mark.parametrize(("model", "error"), [("openai/error-429", openai.RateLimitError),
                                              ("anthropic/error-400", openai.BadRequestError)])
def test_vendor_error_before_the_stream_starts_is_an_http_error(openai_client, model, error):
    with pytest.raises(error) as caught:
        list(openai_client.responses.create(model=model, stream=True, input="hi"))
    assert caught.value.response.json()["error"]["message"]


@pytest.mark.parametrize("model", ["openai/stream-error", "anthropic/stream-error"])
def test_vendor_error_mid_stream_becomes_response_failed(openai_client, model):
    events = list(openai_client.responses.create(model=model, stream=True,
                                                 input="this will break"))
    assert events[0].type == "response.created"
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error.code == "server_error" and failed.response.error.message
    assert failed.response.output[0].status == "incomplete"
    assert failed.response.output[0].content[0].text  # the text that did arrive
    with pytest.raises(openai.NotFoundError):  # only finished responses are kept
        openai_client.responses.retrieve(failed.response.id)
