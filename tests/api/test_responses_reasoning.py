"""Reasoning in the Responses API through the real OpenAI SDK against the fake vendor: a
vendor's thinking (Anthropic thinking and redacted_thinking blocks, OpenAI-compatible
``reasoning_content``) comes out as ``reasoning`` items with summary text, an Anthropic
signature kept in ``encrypted_content``; streamed with the reasoning summary events in the
real order; and sent back (as input items or through previous_response_id) it reaches an
Anthropic vendor as the very thinking blocks it issued."""

from __future__ import annotations

import pytest

from tests.fakes.anthropic_features import REDACTED_DATA
from tests.fakes.reasoning import THINKING_TEXT, openai_reasoning_pieces, sign

REASONING_ITEM = ["response.output_item.added", "response.reasoning_summary_part.added",
                  "response.reasoning_summary_text.delta",
                  "response.reasoning_summary_text.done",
                  "response.reasoning_summary_part.done", "response.output_item.done"]
TEXT_ITEM = ["response.output_item.added", "response.content_part.added",
             "response.output_text.delta", "response.output_text.done",
             "response.content_part.done", "response.output_item.done"]
STREAMED_THINKING = "".join(piece + " " for piece in THINKING_TEXT.split(" "))


def _kinds(events) -> list[str]:
    """Event types in order, runs of deltas counted once."""
    kinds: list[str] = []
    for event in events:
        if not (kinds and kinds[-1] == event.type and event.type.endswith(".delta")):
            kinds.append(event.type)
    return kinds


def _items(response) -> list[dict]:
    """A response's output as input items for the next turn, as agents send them back."""
    return [item.model_dump(exclude_none=True) for item in response.output]


def test_anthropic_thinking_is_a_reasoning_item_with_its_signature(openai_client):
    response = openai_client.responses.create(model="anthropic/fake-thinking", input="hi")
    reasoning, message = response.output
    assert reasoning.type == "reasoning" and reasoning.id.startswith("rs_")
    assert [(s.type, s.text) for s in reasoning.summary] == [("summary_text", THINKING_TEXT)]
    assert reasoning.encrypted_content == sign(THINKING_TEXT)
    assert message.type == "message" and response.output_text == "Echo: hi"


def test_thinking_sent_back_as_items_reaches_anthropic_as_the_signed_block(openai_client,
                                                                          fake_vendor):
    first = openai_client.responses.create(model="anthropic/fake-thinking", input="hi")
    raw = openai_client.responses.with_raw_response.create(
        model="anthropic/fake-thinking", store=False,
        include=["reasoning.encrypted_content"],  # as Codex asks: always given, not dropped
        input=[{"role": "user", "content": "hi"}, *_items(first),
               {"role": "user", "content": "again"}])
    assert raw.parse().output_text == "Echo: again"  # the fake checks the signature
    assert "x-parlor-dropped" not in raw.headers
    assistant = fake_vendor.last_request.body["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == [
        {"type": "thinking", "thinking": THINKING_TEXT, "signature": sign(THINKING_TEXT)},
        {"type": "text", "text": "Echo: hi"}]


def test_thinking_is_replayed_through_previous_response_id(openai_client, fake_vendor):
    first = openai_client.responses.create(model="anthropic/fake-thinking", input="hi")
    second = openai_client.responses.create(model="anthropic/fake-thinking", input="again",
                                            previous_response_id=first.id)
    assert second.output_text == "Echo: again"
    assert fake_vendor.last_request.body["messages"][1]["content"][0] == {
        "type": "thinking", "thinking": THINKING_TEXT, "signature": sign(THINKING_TEXT)}


def test_an_altered_signature_is_refused_by_the_vendor_as_a_400(openai_client):
    import openai

    first = openai_client.responses.create(model="anthropic/fake-thinking", input="hi")
    items = _items(first)
    items[0]["encrypted_content"] = "forged"
    with pytest.raises(openai.BadRequestError):
        openai_client.responses.create(model="anthropic/fake-thinking", input=[
            {"role": "user", "content": "hi"}, *items, {"role": "user", "content": "again"}])


def test_redacted_thinking_round_trips_in_encrypted_content(openai_client, fake_vendor):
    first = openai_client.responses.create(model="anthropic/fake-thinking-redacted",
                                           input="hi")
    thinking, redacted = first.output[0], first.output[1]
    assert thinking.encrypted_content == sign(THINKING_TEXT)
    assert redacted.type == "reasoning" and redacted.summary == []
    assert redacted.encrypted_content == "redacted_thinking:" + REDACTED_DATA
    openai_client.responses.create(model="anthropic/fake-thinking-redacted", input=[
        {"role": "user", "content": "hi"}, *_items(first), {"role": "user", "content": "more"}])
    blocks = fake_vendor.last_request.body["messages"][1]["content"]
    assert [b["type"] for b in blocks] == ["thinking", "redacted_thinking", "text"]
    assert blocks[1]["data"] == REDACTED_DATA


def test_openai_compatible_reasoning_is_an_unsigned_item_dropped_when_sent_back(
        openai_client, fake_vendor):
    first = openai_client.responses.create(model="openai/fake-reasoning", input="hi")
    reasoning = first.output[0]
    assert reasoning.type == "reasoning" and reasoning.encrypted_content is None
    assert reasoning.summary[0].text == "".join(openai_reasoning_pieces())
    raw = openai_client.responses.with_raw_response.create(
        model="openai/fake-reasoning", store=False,
        input=[{"role": "user", "content": "hi"}, *_items(first),
               {"role": "user", "content": "again"}])
    assert raw.headers["x-parlor-dropped"] == "input.reasoning"
    assert fake_vendor.last_request.body["messages"] == [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "Echo: hi"},
        {"role": "user", "content": "again"}]


def test_reasoning_streams_its_summary_events_before_the_text(openai_client):
    events = list(openai_client.responses.create(model="anthropic/fake-thinking",
                                                 input="hi", stream=True))
    assert _kinds(events) == ["response.created", "response.in_progress", *REASONING_ITEM,
                              *TEXT_ITEM, "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    added = events[2]
    assert added.item.type == "reasoning" and added.item.summary == []
    deltas = [e for e in events if e.type == "response.reasoning_summary_text.delta"]
    assert "".join(e.delta for e in deltas) == STREAMED_THINKING
    assert all((e.item_id, e.output_index, e.summary_index) == (added.item.id, 0, 0)
               for e in deltas)
    done = next(e for e in events if e.type == "response.output_item.done")
    assert done.item.encrypted_content == sign(STREAMED_THINKING)
    assert done.item.summary[0].text == STREAMED_THINKING
    final = events[-1].response
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output[0].encrypted_content == sign(STREAMED_THINKING)
    assert final.output_text == "Echo: hi"


def test_a_streamed_redacted_block_is_an_item_added_and_done_at_once(openai_client):
    events = list(openai_client.responses.create(model="anthropic/fake-thinking-redacted",
                                                 input="hi", stream=True))
    assert _kinds(events) == [
        "response.created", "response.in_progress", *REASONING_ITEM,
        "response.output_item.added", "response.output_item.done", *TEXT_ITEM,
        "response.completed"]
    redacted = events[-1].response.output[1]
    assert redacted.encrypted_content == "redacted_thinking:" + REDACTED_DATA


def test_the_sdk_stream_helper_collects_reasoning_items(openai_client):
    with openai_client.responses.stream(model="openai/fake-reasoning", input="hi") as stream:
        final = stream.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output[0].summary[0].text == "".join(openai_reasoning_pieces())
    assert final.output_text == "Echo: hi"


def test_an_agent_turn_with_thinking_and_a_tool_call_continues_on_anthropic(openai_client,
                                                                            fake_vendor):
    lookup = {"type": "function", "name": "lookup",
              "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}
    first = openai_client.responses.create(model="anthropic/tool-call", input="weather",
                                           tools=[lookup], reasoning={"effort": "low"},
                                           store=False)
    assert [item.type for item in first.output] == ["reasoning", "message", "function_call"]
    call = first.output[-1]
    second = openai_client.responses.create(
        model="anthropic/tool-call", tools=[lookup], reasoning={"effort": "low"}, input=[
            {"role": "user", "content": "weather"}, *_items(first),
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}])
    assert second.output_text == "Tool said: sunny"
    assistant, result = fake_vendor.last_request.body["messages"][1:]
    assert [b["type"] for b in assistant["content"]] == ["thinking", "text", "tool_use"]
    assert assistant["content"][0]["signature"] == sign(THINKING_TEXT)
    assert result["content"][0] == {"type": "tool_result", "tool_use_id": call.call_id,
                                    "content": "sunny"}
