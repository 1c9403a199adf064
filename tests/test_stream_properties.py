"""Property tests (hypothesis) of the stream encoders and Parlor's own OpenAI stream parser.

For any run of text and tool-call deltas: the Anthropic events keep the protocol's order (every
delta inside a block opened before it, blocks closed, message_stop last) and carry the text
unchanged; the OpenAI chunks put the role in the first chunk only and end with [DONE]; and what
the OpenAI encoder writes, the OpenAI adapter's parser reads back to the same deltas. Arbitrary
lines fed to the parser raise Parlor's VendorError or nothing.
"""

from __future__ import annotations

import json

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.formatting.wire import AnthropicStream, OpenAIStream
from app.vendors.errors import VendorError
from app.vendors.openai import OpenAIHandler
from app.vendors.sender import data_fields, sse_lines
from app.vendors.types import Credential, Delta, ToolCallDelta, Usage

TEXT = st.text(min_size=1, max_size=20)
TOOL = st.builds(lambda i, args, first: ToolCallDelta(
    index=i, id=f"call_{i}" if first else None, name="lookup" if first else None,
    arguments=args), st.integers(0, 2), st.text(max_size=10), st.booleans())
DELTAS = st.lists(st.one_of(st.builds(Delta, text=TEXT), st.builds(Delta, tool_call=TOOL)),
                  max_size=12)
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _finish():
    return Delta(finish_reason="stop", usage=Usage(3, 4))


def _events(text: str) -> list[tuple[str, dict]]:
    """Parse named SSE events (``event:`` + one ``data:`` line, blank line after)."""
    parsed = []
    for block in text.split("\n\n"):
        if not block:
            continue
        name, data = block.split("\n", 1)
        parsed.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return parsed


@SETTINGS
@given(DELTAS)
def test_anthropic_events_keep_protocol_order_and_text(deltas):
    stream = AnthropicStream(id="msg_1", model="m")
    out = stream.start() + "".join(e for d in [*deltas, _finish()] for e in stream.feed(d))
    events = _events(out)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    open_index, text = None, ""
    for name, data in events:
        assert data["type"] == name
        if name == "content_block_start":
            assert open_index is None
            open_index = data["index"]
        elif name == "content_block_delta":
            assert data["index"] == open_index
            if data["delta"]["type"] == "text_delta":
                text += data["delta"]["text"]
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
    assert open_index is None
    assert text == "".join(d.text for d in deltas)


class _Watchdog:
    def fed(self):
        pass


def _parser():
    return OpenAIHandler(Credential(name="p", kind="openai-compatible", api_key="k",
                                    base_url="http://127.0.0.1:9/v1"))


def _pieces(text: str, size: int) -> list[bytes]:
    """The stream's bytes as the network might deliver them: cut every ``size`` bytes,
    mid-line and mid-character too."""
    raw = text.encode("utf-8", "surrogatepass")
    return [raw[i:i + size] for i in range(0, len(raw), size)]


def _fields(text: str, size: int = 1 << 20):
    return data_fields(iter(_pieces(text, size)))


@SETTINGS
@given(DELTAS, st.booleans(), st.integers(1, 64))
def test_openai_chunks_read_back_to_the_same_deltas(deltas, include_usage, size):
    stream = OpenAIStream(id="c1", model="m", created=0, include_usage=include_usage)
    out = stream.start() + "".join(e for d in [*deltas, _finish()] for e in stream.feed(d))
    chunks = [json.loads(line[6:]) for line in out.split("\n\n") if line.startswith("data: {")]
    roles = [c["choices"][0]["delta"].get("role") for c in chunks if c["choices"]]
    assert roles[0] == "assistant" and not any(roles[1:])
    assert out.endswith("data: [DONE]\n\n")

    handler, state = _parser(), {}
    try:
        read = list(handler._deltas(_fields(out, size), _Watchdog(), state))
    finally:
        handler.close()
    assert "".join(d.text for d in read) == "".join(d.text for d in deltas)
    assert [d.tool_call for d in read if d.tool_call] == [
        ToolCallDelta(index=d.tool_call.index, id=d.tool_call.id,
                      name=d.tool_call.name if d.tool_call.id else None,
                      arguments=d.tool_call.arguments)
        for d in deltas if d.tool_call]
    assert state["finish"] == "stop"
    assert state.get("usage") == (Usage(3, 4) if include_usage else None)


ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                        | st.floats(),  # NaN and Infinity too: json.dumps writes them
                        lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
# Chunk-shaped values whose parts have the wrong types.
ODD_CHUNK = st.fixed_dictionaries({}, optional={
    "choices": st.one_of(ANY_JSON, st.lists(st.fixed_dictionaries({}, optional={
        "delta": st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
            "content": ANY_JSON, "tool_calls": st.one_of(ANY_JSON, st.lists(ANY_JSON))})),
        "finish_reason": ANY_JSON}), max_size=2)),
    "usage": st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
        "prompt_tokens": ANY_JSON, "completion_tokens": ANY_JSON})),
    "error": ANY_JSON,
})


@SETTINGS
@given(st.lists(st.one_of(
    st.builds(lambda v: "data: " + json.dumps(v), ODD_CHUNK),
    st.text(max_size=30),
    st.builds(lambda t: "data: " + t, st.text(max_size=30)),
    st.builds(lambda v: "data: " + json.dumps(v), st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
            st.sampled_from(["choices", "usage", "error", "delta", "content"]), inner,
            max_size=3), max_leaves=8)),
), max_size=8))
def test_openai_parser_turns_any_garbage_into_vendor_errors(lines):
    handler = _parser()
    try:
        with handler.translated_errors():
            list(handler._deltas(_fields("\n".join(lines)), _Watchdog(), {}))
    except VendorError:
        pass
    finally:
        handler.close()


@pytest.mark.parametrize("count", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_openai_parser_turns_a_non_finite_token_count_into_a_vendor_error(count):
    handler = _parser()
    chunk = ('data: {"choices": [{"delta": {"content": "hi"}, "finish_reason": "stop"}], '
             f'"usage": {{"prompt_tokens": {count}, "completion_tokens": 1}}}}')
    try:
        with pytest.raises(VendorError), handler.translated_errors():
            list(handler._deltas(_fields(chunk + "\ndata: [DONE]\n"), _Watchdog(), {}))
    finally:
        handler.close()


@SETTINGS
@given(st.text(), st.text(min_size=1), st.booleans())
def test_openai_text_chunk_from_its_template_is_the_whole_rendering(text, model, include_usage):
    stream = OpenAIStream(id="chatcmpl-1", model=model, created=7, include_usage=include_usage)
    assert stream.feed(Delta(text=text or "x")) == [stream._chunk({"content": text or "x"})]


@SETTINGS
@given(st.lists(st.text().filter(lambda t: "\n" not in t and "\r" not in t), max_size=8),
       st.sampled_from(["\n", "\r\n"]), st.integers(1, 16))
def test_event_stream_lines_read_back_however_the_bytes_are_split(lines, ending, size):
    """The Anthropic adapter's lines, from raw bytes cut anywhere (mid-character too)."""
    text = "".join(line + ending for line in lines)
    response = httpx2.Response(200, content=iter(_pieces(text, size)))
    assert list(sse_lines(response)) == lines
