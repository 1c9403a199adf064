"""Extended thinking on /v1/messages through the real Anthropic SDK: thinking and redacted
blocks relayed with their signatures, plain and streamed, and sent back on the next turn."""

from __future__ import annotations

import anthropic
import pytest

from app.formatting.wire import AnthropicStream
from app.vendors import Delta, Usage

HELLO = [{"role": "user", "content": "hello there"}]
THINK = {"type": "enabled", "budget_tokens": 1024}


def test_thinking_streams_with_its_signature_and_goes_back_on_the_next_turn(
        anthropic_client, fake_vendor):
    with anthropic_client.messages.stream(
            model="anthropic/fake-thinking", max_tokens=4000, messages=HELLO,
            thinking=THINK) as stream:
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
        model="anthropic/fake-thinking", max_tokens=4000, messages=follow_up, thinking=THINK)
    assert second.content[-1].text == "Echo: and again"  # the fake checked the signature
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


def test_redacted_thinking_is_relayed_whole_and_accepted_back(anthropic_client, fake_vendor):
    message = anthropic_client.messages.create(
        model="anthropic/fake-redacted-thinking", max_tokens=4000, messages=HELLO)
    assert [b.type for b in message.content] == ["thinking", "redacted_thinking", "text"]
    with anthropic_client.messages.stream(
            model="anthropic/fake-redacted-thinking", max_tokens=4000,
            messages=HELLO) as stream:
        streamed = stream.get_final_message()
    assert streamed.content[1].model_dump() == message.content[1].model_dump()
    replayed = [b.model_dump() for b in streamed.content]
    follow_up = HELLO + [{"role": "assistant", "content": replayed},
                         {"role": "user", "content": "more"}]
    again = anthropic_client.messages.create(
        model="anthropic/fake-redacted-thinking", max_tokens=4000, messages=follow_up)
    assert again.content[-1].text == "Echo: more"  # the fake recognised its redacted data
    assert fake_vendor.last_request.body["messages"][1]["content"][1] == {
        "type": "redacted_thinking", "data": message.content[1].data}


def test_altered_redacted_thinking_is_the_vendors_400(anthropic_client):
    altered = [{"type": "redacted_thinking", "data": "not-what-was-issued"},
               {"type": "text", "text": "ok"}]
    with pytest.raises(anthropic.BadRequestError, match="redacted_thinking"):
        anthropic_client.messages.create(
            model="anthropic/fake-chat", max_tokens=100,
            messages=HELLO + [{"role": "assistant", "content": altered},
                              {"role": "user", "content": "next"}])


def test_adaptive_thinking_is_forwarded_and_answered_with_reasoning(anthropic_client, fake_vendor):
    message = anthropic_client.messages.create(
        model="anthropic/fake-chat", max_tokens=4000, messages=HELLO,
        thinking={"type": "adaptive"})
    assert message.content[0].type == "thinking"
    assert fake_vendor.last_request.body["thinking"] == {"type": "adaptive"}


def test_disabled_thinking_is_forwarded_as_such(anthropic_client, fake_vendor):
    message = anthropic_client.messages.create(
        model="anthropic/fake-chat", max_tokens=100, messages=HELLO,
        thinking={"type": "disabled"})
    assert [b.type for b in message.content] == ["text"]
    assert fake_vendor.last_request.body["thinking"] == {"type": "disabled"}


def test_a_thinking_budget_becomes_a_reasoning_effort_for_an_openai_vendor(
        anthropic_client, fake_vendor):
    anthropic_client.messages.create(model="openai/fake-chat", max_tokens=20000, messages=HELLO,
                                     thinking={"type": "enabled", "budget_tokens": 16384})
    assert fake_vendor.last_request.body["reasoning_effort"] == "high"


def test_openai_reasoning_text_reaches_an_anthropic_client_as_a_thinking_block(
        anthropic_client):
    message = anthropic_client.messages.create(
        model="openai/fake-reasoning", max_tokens=100, messages=HELLO)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking.startswith("The user wants an echo.")


def test_a_signature_alone_still_makes_a_thinking_block_and_ends_it():
    """With ``display: omitted`` the upstream sends no thinking text, only the signature; two
    thinking blocks in a row stay two blocks."""
    stream = AnthropicStream(id="msg_1", model="m")
    events = []
    for delta in (Delta(signature="sig-1"), Delta(thinking="second"), Delta(signature="sig-2"),
                  Delta(text="hi"), Delta(finish_reason="stop", usage=Usage(3, 1))):
        events += stream.feed(delta)
    starts = [e for e in events if e.startswith("event: content_block_start")]
    assert len(starts) == 3
    assert '"signature":"sig-1"' in events[1] and '"index":0' in events[1]
    assert '"index":0' in events[2] and "content_block_stop" in events[2]
    assert '"signature":"sig-2"' in "".join(events) and '"index":1' in events[5]
