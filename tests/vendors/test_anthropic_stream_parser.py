"""Property tests (hypothesis) of the Anthropic adapter's own stream and reply parsing.

For any run of text and tool_use blocks sent as Messages events, however the SSE is framed
(pings, comments, ``field:value`` without a space, data over several lines), the parser gives
back exactly the text pieces and tool-call fragments that were sent (the input of the vendor's
own server tools is no call of the client's), the finish reason and the token counts. It reads
back what Parlor's own Anthropic encoder writes, and never reports a reply finished before
message_stop. Arbitrary lines or bodies raise Parlor's VendorError (or a built-in error that
complete() maps to one) and nothing else.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.formatting.wire import AnthropicStream
from app.vendors.anthropic import MALFORMED, STOP_REASONS, _deltas, _read_message
from app.vendors.errors import VendorError, VendorUnavailable
from app.vendors.types import Credential, Delta, ToolCallDelta, Usage

SECRET = "sk-ant-SECRET-0123456789"
CREDENTIAL = Credential(name="claude", kind="anthropic", api_key=SECRET)
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

TEXT_BLOCK = st.tuples(st.just("text"), st.lists(st.text(max_size=12), max_size=5))
TOOL_BLOCK = st.tuples(st.just("tool"), st.text(min_size=1, max_size=8), st.text(max_size=8),
                       st.lists(st.text(max_size=10), max_size=5))
# The vendor's own tools (web search): their input streams too, but is no call of the client's.
SERVER_TOOL_BLOCK = st.tuples(st.just("server_tool"), st.lists(st.text(max_size=10), max_size=3))
BLOCKS = st.lists(st.one_of(TEXT_BLOCK, TOOL_BLOCK), max_size=6)
API_BLOCKS = st.lists(st.one_of(TEXT_BLOCK, TOOL_BLOCK, SERVER_TOOL_BLOCK), max_size=6)
TOKENS = st.integers(0, 10**6)
FRAMING = st.fixed_dictionaries({"pings": st.booleans(), "comments": st.booleans(),
                                 "compact": st.booleans(), "multiline": st.booleans()})


class _Watchdog:
    def __init__(self):
        self.feeds = 0

    def fed(self):
        self.feeds += 1


def _api_events(blocks, stop_reason: str, tokens: tuple[int, int, int, int]) -> list[dict]:
    """The Messages events the API sends for ``blocks``, in its order."""
    input_tokens, cache_read, cache_creation, output_tokens = tokens
    events = [{"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "cache_read_input_tokens": cache_read,
                  "cache_creation_input_tokens": cache_creation, "output_tokens": 1}}}]
    for index, block in enumerate(blocks):
        if block[0] == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in block[1]]
        elif block[0] == "server_tool":
            start = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
                     "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in block[1]]
        else:
            _, call_id, name, pieces = block
            start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    events.append({"type": "message_delta",
                   "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                   "usage": {"output_tokens": output_tokens}})
    events.append({"type": "message_stop"})
    return events


def _sse_lines(events: list[dict], framing: dict) -> list[str]:
    """The events as SSE lines (what ``iter_lines`` gives), framed as ``framing`` says."""
    separator = ":" if framing["compact"] else ": "
    lines = []
    for event in events:
        if framing["comments"]:
            lines.append(": keep-alive")
        lines.append(f"event{separator}{event['type']}")
        data = json.dumps(event, indent=1 if framing["multiline"] else None)
        lines += [f"data{separator}{part}" for part in data.split("\n")]
        lines.append("")
        if framing["pings"]:
            lines += [f"event{separator}ping", f'data{separator}{{"type": "ping"}}', ""]
    return lines


def _expected_deltas(blocks) -> list[Delta]:
    expected, tools = [], 0
    for block in blocks:
        if block[0] == "text":
            expected += [Delta(text=piece) for piece in block[1]]
        elif block[0] == "tool":
            _, call_id, name, pieces = block
            expected.append(Delta(tool_call=ToolCallDelta(index=tools, id=call_id, name=name)))
            expected += [Delta(tool_call=ToolCallDelta(index=tools, arguments=piece))
                         for piece in pieces]
            tools += 1
    return expected


@SETTINGS
@given(API_BLOCKS, st.sampled_from(sorted(STOP_REASONS)),
       st.tuples(TOKENS, TOKENS, TOKENS, TOKENS), FRAMING)
def test_anthropic_events_read_back_to_the_same_deltas_finish_and_usage(
        blocks, stop_reason, tokens, framing):
    events = _api_events(blocks, stop_reason, tokens)
    state, watchdog = {}, _Watchdog()

    read = list(_deltas(iter(_sse_lines(events, framing)), watchdog, state, CREDENTIAL))

    assert read == _expected_deltas(blocks)
    assert "".join(d.text for d in read) == "".join(
        "".join(block[1]) for block in blocks if block[0] == "text")
    assert state["finish"] == STOP_REASONS[stop_reason]
    assert state["finished"] is True
    assert (state["input_tokens"], state["output_tokens"]) == (sum(tokens[:3]), tokens[3])
    assert watchdog.feeds == len(events)  # every event but the pings


@SETTINGS
@given(BLOCKS, st.sampled_from(["stop", "length", "tool_calls", "content_filter"]),
       st.tuples(TOKENS, TOKENS))
def test_what_parlors_anthropic_encoder_writes_the_parser_reads_back(blocks, finish, tokens):
    deltas, tools = [], 0
    for block in blocks:  # the normalised deltas a vendor adapter would have produced
        if block[0] == "text":
            deltas += [Delta(text=piece) for piece in block[1]]
        else:
            _, call_id, name, pieces = block
            deltas.append(Delta(tool_call=ToolCallDelta(index=tools, id=call_id, name=name)))
            deltas += [Delta(tool_call=ToolCallDelta(index=tools, arguments=p)) for p in pieces]
            tools += 1
    stream = AnthropicStream(id="msg_1", model="m")
    last = Delta(finish_reason=finish, usage=Usage(*tokens))
    out = stream.start() + "".join(e for d in [*deltas, last] for e in stream.feed(d))
    state = {}

    read = list(_deltas(iter(out.split("\n")), _Watchdog(), state, CREDENTIAL))

    assert "".join(d.text for d in read) == "".join(d.text for d in deltas)
    sent = [block for block in blocks if block[0] == "tool"]
    starts = [d.tool_call for d in read if d.tool_call and d.tool_call.id is not None]
    assert [(s.index, s.id, s.name) for s in starts] == [
        (k, block[1], block[2]) for k, block in enumerate(sent)]
    for k, block in enumerate(sent):
        assert "".join(d.tool_call.arguments for d in read
                       if d.tool_call and d.tool_call.index == k) == "".join(block[3])
    assert (state["finish"], state["finished"]) == (finish, True)
    assert Usage(state["input_tokens"], state["output_tokens"]) == Usage(*tokens)


@SETTINGS
@given(API_BLOCKS, FRAMING, st.data())
def test_a_stream_cut_before_message_stop_is_never_finished(blocks, framing, data):
    lines = _sse_lines(_api_events(blocks, "end_turn", (1, 0, 0, 2)), framing)
    # message_stop's event is complete only at its blank line, the last one but any pings
    stop_at = max(i for i, line in enumerate(lines) if "message_stop" in line)
    cut = data.draw(st.integers(0, stop_at))
    state = {}

    list(_deltas(iter(lines[:cut]), _Watchdog(), state, CREDENTIAL))

    assert not state.get("finished")


@SETTINGS
@given(st.text(max_size=40), st.booleans())
def test_an_error_event_becomes_unavailable_with_its_message_scrubbed(message, named):
    error = {"type": "error", "error": {"type": "overloaded_error",
                                        "message": f"{message} {SECRET} {message}"}}
    lines = [*_sse_lines(_api_events([("text", ["one "])], "end_turn", (1, 0, 0, 1))[:3],
                         {"pings": False, "comments": False, "compact": False,
                          "multiline": False}),
             *(["event: error"] if named else []), f"data: {json.dumps(error)}", ""]
    read = []

    with pytest.raises(VendorUnavailable) as caught:
        read.extend(_deltas(iter(lines), _Watchdog(), {}, CREDENTIAL))

    assert read == [Delta(text="one ")]
    assert SECRET not in caught.value.message
    assert caught.value.message == f"{message} *** {message}"
    assert caught.value.vendor == "claude"


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
COUNT = st.one_of(st.integers(), st.floats(), ANY_JSON)  # floats: json has Infinity and NaN
USAGE = st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
    "input_tokens": COUNT, "output_tokens": COUNT,
    "cache_read_input_tokens": COUNT, "cache_creation_input_tokens": COUNT}))
# Event-shaped values whose parts have the wrong types.
ODD_EVENT = st.fixed_dictionaries({"type": st.one_of(st.sampled_from([
    "message_start", "content_block_start", "content_block_delta", "content_block_stop",
    "message_delta", "message_stop", "ping", "error"]), ANY_JSON)}, optional={
    "delta": st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
        "type": st.one_of(st.sampled_from(["text_delta", "input_json_delta"]), ANY_JSON),
        "text": ANY_JSON, "partial_json": ANY_JSON, "stop_reason": ANY_JSON})),
    "content_block": st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
        "type": st.one_of(st.just("tool_use"), ANY_JSON), "id": ANY_JSON, "name": ANY_JSON})),
    "message": st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={"usage": USAGE})),
    "usage": USAGE,
    "error": st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={"message": ANY_JSON})),
})
GARBAGE_LINE = st.one_of(
    st.just(""),
    st.builds(lambda v: "data: " + json.dumps(v), ODD_EVENT),
    st.builds(lambda v: "data: " + json.dumps(v), ANY_JSON),
    st.builds(lambda name: "event: " + name,
              st.one_of(st.sampled_from(["error", "ping", "message_stop"]), st.text(max_size=8))),
    st.builds(lambda t: "data: " + t, st.text(max_size=30)),
    st.text(max_size=30),
)


# Loose lines, or whole events (an odd event's data line and the blank line that ends it).
GARBAGE = st.lists(st.one_of(st.lists(GARBAGE_LINE, max_size=3),
                             st.builds(lambda v: ["data: " + json.dumps(v), ""], ODD_EVENT)),
                   max_size=8)


@SETTINGS
@given(GARBAGE)
@example([['data: {"type": "message_delta", "usage": {"output_tokens": Infinity}}', ""]])
@example([['data: {"type": "message_start", "message": {"usage": {"input_tokens": NaN}}}', ""]])
@example([['data: {"type": "content_block_delta", "delta": {"type": "text_delta", "text": 5}}',
           ""]])
def test_anthropic_parser_turns_any_garbage_into_vendor_errors(groups):
    lines = [line for group in groups for line in group]
    read = []
    try:
        read.extend(_deltas(iter(lines), _Watchdog(), {}, CREDENTIAL))
    except VendorError:
        pass
    for delta in read:  # what does come out is well typed
        assert isinstance(delta.text, str)
        if delta.tool_call:
            call = delta.tool_call
            assert isinstance(call.arguments, str) and isinstance(call.index, int)
            assert call.id is None or isinstance(call.id, str)
            assert call.name is None or isinstance(call.name, str)


ODD_BLOCK = st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(["text", "tool_use"]), ANY_JSON), "text": ANY_JSON,
    "id": ANY_JSON, "name": ANY_JSON, "input": ANY_JSON}))


@SETTINGS
@given(st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
    "content": st.one_of(ANY_JSON, st.lists(ODD_BLOCK, max_size=3)), "stop_reason": ANY_JSON,
    "usage": USAGE, "model": ANY_JSON, "id": ANY_JSON})))
@example({"content": [], "usage": {"output_tokens": float("inf")}})
def test_a_malformed_reply_body_raises_only_what_complete_maps_to_vendor_unavailable(body):
    try:
        _read_message(json.loads(json.dumps(body)), "m")
    except MALFORMED:
        pass
