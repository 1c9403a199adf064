"""Anthropic adapter (Messages API) on the official ``anthropic`` SDK's client.

The SDK client's URL, auth and version headers frame each call (see :mod:`app.vendors.sender`),
sent on its connection pool; replies and stream events are read with json.loads alone, not
through its pydantic models.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import anthropic

from app.vendors.errors import VendorBadRequest, VendorUnavailable, scrub
from app.vendors.sdk_adapter import MALFORMED, SDKHandler
from app.vendors.sender import sse_lines
from app.vendors.streamed_body import base64_text, base64_value
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Credential,
    Delta,
    OutputFormat,
    Part,
    Reasoning,
    Result,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
    budget_for_effort,
)
from app.vendors.watchdog import StallWatchdog

DEFAULT_MAX_TOKENS = 4096
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class AnthropicHandler(SDKHandler):
    sdk, client_class, http_client_class = anthropic, "Anthropic", "DefaultHttpxClient"

    def __init__(self, credential):
        super().__init__(credential)
        self.messages = self.endpoint("/v1/messages")
        self.token_counter = self.endpoint("/v1/messages/count_tokens")

    def models(self) -> list[str]:
        with self.translated_errors():
            return sorted(model.id for model in self.client.models.list(limit=1000))

    def complete(self, request: ChatRequest) -> Result:
        with self.translated_errors():
            content = self.messages.post(_params(request), headers=_headers(request)).content
        with self.well_formed():
            return _read_message(json.loads(content), request.model,
                                 forced=request.output_format is not None)

    def count_tokens(self, request: ChatRequest) -> int:
        params = {k: v for k, v in _params(request).items()
                  if k in ("model", "messages", "system", "tools", "tool_choice", "thinking")}
        with self.translated_errors():
            content = self.token_counter.post(params, headers=_headers(request)).content
        with self.well_formed():
            return int(json.loads(content)["input_tokens"])

    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        state = {"forced": request.output_format is not None}
        yield from self.watched_stream(
            self.messages, _params(request, stream=True),
            lambda upstream, watchdog: _deltas(sse_lines(upstream), watchdog, state,
                                               self.credential),
            headers=_headers(request))
        if state.get("finish") is None or not state.get("finished"):
            raise VendorUnavailable(f"{self.credential.name} ended the reply early",
                                    vendor=self.credential.name)
        yield Delta(finish_reason=state["finish"],
                    usage=Usage(state.get("input_tokens", 0), state.get("output_tokens", 0),
                                cache_read_tokens=state.get("cache_read", 0),
                                cache_write_tokens=state.get("cache_write", 0)))


def _deltas(lines: Iterable[str], watchdog: StallWatchdog, state: dict,
            credential: Credential) -> Iterator[Delta]:
    """The upstream's SSE lines as deltas; finish reason and token counts are left in ``state``.

    Each event is read with json.loads alone: building the SDK's models for it cost more than
    the rest of the gateway's work on a streamed chunk. A malformed event or an ``error`` event
    raises VendorUnavailable (its message scrubbed of the credential's key).
    """
    name = credential.name
    for event_name, data in _sse_events(lines):
        if state.get("finished") or event_name == "ping":
            # after message_stop the body is read to its end, so the connection is pooled again
            continue
        try:
            deltas = _read_event(event_name, json.loads(data), state)
        except _StreamError as exc:
            raise VendorUnavailable(scrub(str(exc), credential.api_key), vendor=name) from None
        except MALFORMED:
            raise VendorUnavailable(f"{name} sent a malformed event", vendor=name) from None
        yield from deltas
        watchdog.fed()  # the wait for the next event starts now, not while the client read


def _sse_events(lines: Iterable[str]) -> Iterator[tuple[str | None, str]]:
    """Server-sent events as (event name, data), each given at its closing blank line.

    Comments (keep-alives), ``id``/``retry`` fields and events without data are passed over,
    as the SDK did.
    """
    event_name, data = None, []
    for line in lines:
        if not line:
            if data and (joined := "\n".join(data)):
                yield event_name, joined
            event_name, data = None, []
            continue
        field, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            event_name = value


class _StreamError(Exception):
    """The vendor sent an error event inside the stream."""


def _read_event(event_name: str | None, event: dict, state: dict) -> list[Delta]:
    """One Messages stream event as deltas (a wrong shape raises a built-in error).

    Tool calls are numbered from 0 in the order their blocks open; ``state`` keeps that count,
    whether a tool_use block is open, the finish reason, token counts and ``finished``.
    """
    kind = event.get("type")
    if kind == "error" or event_name == "error":
        error = event.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        raise _StreamError(message if isinstance(message, str) and message
                           else "the stream failed")
    if kind == "content_block_delta":
        delta = event["delta"]
        kind = delta.get("type")
        if kind == "text_delta":
            return [Delta(text=_string(delta["text"]))]
        if kind == "input_json_delta" and state.get("in_tool"):
            if state.get("forced"):  # a structured answer: the forced tool's input is the text
                return [Delta(text=_string(delta["partial_json"]))]
            return [Delta(tool_call=ToolCallDelta(index=state.get("tools", 0),
                                                  arguments=_string(delta["partial_json"])))]
        if kind == "thinking_delta":
            return [Delta(thinking=_string(delta["thinking"]))]
        if kind == "signature_delta":
            return [Delta(signature=_string(delta["signature"]))]
    elif kind == "content_block_start":
        block = event["content_block"]
        state["in_tool"] = block.get("type") == "tool_use"
        if block.get("type") == "redacted_thinking":
            return [Delta(redacted_thinking=_string(block["data"]))]
        if state["in_tool"] and not state.get("forced"):
            return [Delta(tool_call=ToolCallDelta(index=state.get("tools", 0),
                                                  id=_string(block["id"]),
                                                  name=_string(block["name"])))]
    elif kind == "content_block_stop":
        if state.pop("in_tool", False):
            state["tools"] = state.get("tools", 0) + 1
    elif kind == "message_start":
        _remember_input(event["message"].get("usage") or {}, state)
    elif kind == "message_delta":
        state["finish"] = STOP_REASONS.get((event.get("delta") or {}).get("stop_reason"), "stop")
        if state["finish"] == "tool_calls" and state.get("forced"):
            state["finish"] = "stop"
        usage = event.get("usage") or {}
        state["output_tokens"] = int(usage.get("output_tokens") or 0)
        if usage.get("input_tokens") is not None:
            _remember_input(usage, state)
    elif kind == "message_stop":
        state["finished"] = True
    return []


def _read_message(body: dict, model: str, *, forced: bool = False) -> Result:
    """A Messages reply body as a Result (a wrong shape raises a built-in error).

    ``forced``: the request asked for structured output, so the forced tool's input is the
    answer's text."""
    blocks = body["content"]
    text = "".join(_string(block["text"]) for block in blocks if block.get("type") == "text")
    calls = tuple(
        ToolCall(id=_string(block["id"]), name=_string(block["name"]),
                 arguments=json.dumps(block.get("input") or {}))
        for block in blocks
        if block.get("type") == "tool_use"
    )
    finish = STOP_REASONS.get(body.get("stop_reason"), "stop")
    if forced and calls:
        text, calls, finish = calls[0].arguments, (), "stop"
    return Result(
        text=text,
        finish_reason=finish,
        usage=_usage(body.get("usage") or {}),
        model=str(body.get("model") or model),
        tool_calls=calls,
        id=str(body.get("id") or ""),
        thinking=tuple(_thinking_part(b) for b in blocks
                       if b.get("type") in ("thinking", "redacted_thinking")),
    )


def _thinking_part(block: dict) -> Part:
    if block["type"] == "redacted_thinking":
        return Part("redacted_thinking", data=_string(block["data"]))
    return Part("thinking", text=_string(block["thinking"]),
                signature=str(block.get("signature") or ""))


def _string(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _params(request: ChatRequest, *, stream: bool = False) -> dict:
    """Translate the normalised request into the Messages API body.

    Keys go in the order ``messages.create`` sent them, so the bytes on the wire are unchanged.
    Sampling parameters are left out: API version 2026-10-21, which SDK 2.x speaks, refuses them.
    A client that spoke Anthropic itself has its own fields and blocks forwarded unchanged.
    """
    native = request.native_format == "anthropic"
    leading = next((i for i, m in enumerate(request.messages) if m.role != "system"),
                   len(request.messages))
    # An Anthropic client's system turns among its messages stay where they are (the API
    # takes them); from other clients, system and developer messages join the system prompt.
    in_place = native
    systems = [m for i, m in enumerate(request.messages)
               if m.role == "system" and (i < leading or not in_place)]
    turns = [m for i, m in enumerate(request.messages)
             if m.role != "system" or (i >= leading and in_place)]
    params: dict = {
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": _turns(turns, native),
        "model": request.model,
    }
    if request.user:
        params["metadata"] = {"user_id": request.user}
    if request.stop:
        params["stop_sequences"] = list(request.stop)
    if stream:
        params["stream"] = True
    if system := _system(systems):
        params["system"] = system
    tools = [_tool(t, native) for t in request.tools if t.native is None or native]
    choice = request.tool_choice
    if request.output_format is not None:  # structured output: one forced tool (see _forced)
        tools = [_output_tool(request.output_format)]
        choice = tools[0]["name"]
    if request.parallel_tool_calls is False and tools and not choice:
        choice = "auto"  # the API says "one tool at a time" inside tool_choice only
    if choice:
        params["tool_choice"] = {"auto": {"type": "auto"}, "none": {"type": "none"},
                                 "required": {"type": "any"}}.get(
            choice, {"type": "tool", "name": choice})
        if request.parallel_tool_calls is False and choice != "none":
            params["tool_choice"]["disable_parallel_tool_use"] = True
    if tools:
        params["tools"] = tools
    # the API refuses thinking with a forced tool: a structured answer goes without it
    reasoning = request.reasoning if request.output_format is None else None
    if (thinking := _thinking(reasoning)) is not None:
        params["thinking"] = thinking
        budget = thinking.get("budget_tokens")
        if budget and params["max_tokens"] <= budget:  # the API wants max_tokens > budget
            params["max_tokens"] = budget + (request.max_tokens or DEFAULT_MAX_TOKENS)
    if native:  # the client's own fields, as it sent them: the vendor decides
        for name, value in request.native_fields.items():
            if isinstance(params.get(name), dict) and isinstance(value, dict):
                params[name] = {**params[name], **value}  # metadata beside user_id...
            else:
                params.setdefault(name, value)
        if request.reasoning is not None and request.reasoning.effort:
            params["output_config"] = {**params.get("output_config", {}),
                                       "effort": request.reasoning.effort}
    return params


def _headers(request: ChatRequest) -> dict[str, str] | None:
    """An Anthropic client's ``anthropic-beta`` and ``anthropic-version``, forwarded as sent."""
    return dict(request.native_headers) if request.native_format == "anthropic" else None


def _system(systems: list[ChatMessage]) -> str | list[dict] | None:
    """The system prompt: a string, or text blocks when one carries a cache_control mark."""
    parts = [p for m in systems for p in (m.parts or (Part("text", text=m.content),))
             if p.type == "text" and p.text]
    if not parts:
        return None
    if not any(p.cache_control for p in parts):
        return "\n\n".join(p.text for p in parts)
    return [_with_cache({"type": "text", "text": p.text}, p.cache_control) for p in parts]


def _tool(tool: ToolSpec, native: bool) -> dict:
    if tool.native is not None:
        return dict(tool.native)
    out = {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
    if tool.strict is not None:
        out["strict"] = tool.strict
    if native:
        out.update(tool.native_extra)
    return _with_cache(out, tool.cache_control)


def _output_tool(output: OutputFormat) -> dict:
    """The tool a structured answer is forced through: its input is the answer."""
    schema = dict(output.schema or {"type": "object"})
    if schema.get("type") != "object":  # tool inputs are objects
        schema = {"type": "object", "properties": {"value": schema}, "required": ["value"]}
    return {"name": output.name, "description": output.description or
            "Answer with this tool: its input is the whole answer.", "input_schema": schema}


def _thinking(reasoning: Reasoning | None) -> dict | None:
    """Anthropic's thinking setting for a request's reasoning (an effort becomes a budget)."""
    if reasoning is None:
        return None
    if reasoning.mode in ("adaptive", "disabled"):
        thinking: dict = {"type": reasoning.mode}
    elif reasoning.mode == "enabled" or reasoning.budget_tokens:
        thinking = {"type": "enabled",
                    "budget_tokens": reasoning.budget_tokens or budget_for_effort("medium")}
    elif reasoning.effort and reasoning.effort != "none":
        thinking = {"type": "enabled", "budget_tokens": budget_for_effort(reasoning.effort)}
    else:
        return None
    if reasoning.display and thinking["type"] != "disabled":
        thinking["display"] = reasoning.display
    return thinking


def _turns(messages: list[ChatMessage], native: bool) -> list[dict]:
    """Alternating user/assistant turns: tool results become user turns, same roles merge."""
    turns: list[dict] = []
    for message in messages:
        role = message.role if message.role in ("assistant", "system") else "user"
        blocks = _blocks(message, native)
        if turns and turns[-1]["role"] == role:
            if message.role == "tool":  # tool results go first in their user turn, in order
                content = turns[-1]["content"]
                at = next((i for i, b in enumerate(content) if b["type"] != "tool_result"),
                          len(content))
                content[at:at] = blocks
            else:
                turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _blocks(message: ChatMessage, native: bool) -> list[dict]:
    if message.role == "tool":
        content = ([b for p in message.parts if (b := _block(p, native))] if message.parts
                   else message.content)
        result = {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": content}
        if message.is_error is not None:
            result["is_error"] = message.is_error
        return [_with_cache(result, message.cache_control)]
    if message.parts:
        blocks = [b for p in message.parts if (b := _block(p, native))]
    else:
        blocks = [{"type": "text", "text": message.content}] if message.content else []
    for call in message.tool_calls:
        try:
            arguments = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            raise VendorBadRequest(f"tool call {call.id} has arguments that are not JSON") from None
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments})
    return blocks


def _block(part: Part, native: bool) -> dict | None:
    """One content part as a Messages block (None: nothing this vendor can take)."""
    if native and part.native is not None:  # an Anthropic client's own block, as it sent it
        return _as_sent(part)
    if part.type == "text":
        block: dict | None = {"type": "text", "text": part.text} if part.text else None
    elif part.type in ("image", "document"):
        block = {"type": part.type, "source": _source(part)}
        if part.type == "document" and part.name:
            block["title"] = part.name
    elif part.type == "thinking":
        # reasoning from another vendor has no signature: Anthropic would refuse it
        block = ({"type": "thinking", "thinking": part.text, "signature": part.signature}
                 if part.signature else None)
    elif part.type == "redacted_thinking":
        block = {"type": "redacted_thinking", "data": part.data}
    else:  # a block only vendors of the client's own format take
        block = None
    return _with_cache(block, part.cache_control) if block is not None else None


def _as_sent(part: Part) -> dict:
    """An Anthropic client's block as it sent it; a large base64 source in it is streamed
    from the client's own text (streamed_body.py), not copied into the body."""
    block = dict(part.native)
    source = block.get("source")
    if (part.type in ("image", "document") and isinstance(source, dict)
            and source.get("type") == "base64" and isinstance(source.get("data"), str)):
        block["source"] = {**source, "data": base64_text(source["data"])}
    return block


def _source(part: Part) -> dict:
    if part.url:
        return {"type": "url", "url": part.url}
    if not part.has_source():  # a text document
        return {"type": "text", "media_type": "text/plain", "data": part.text}
    if (part.media_type or "").startswith("text/"):  # base64 sources are for PDFs alone
        text = part.raw().decode("utf-8", "replace")
        return {"type": "text", "media_type": "text/plain", "data": text}
    # a large one is base64-encoded as the body is sent (streamed_body.py)
    return {"type": "base64", "media_type": part.media_type, "data": base64_value(part)}


def _with_cache(block: dict, cache_control) -> dict:
    if cache_control:
        block["cache_control"] = dict(cache_control)
    return block


def _input_tokens(usage: dict) -> int:
    return (
        int(usage.get("input_tokens") or 0)
        + int(usage.get("cache_read_input_tokens") or 0)
        + int(usage.get("cache_creation_input_tokens") or 0)
    )


def _remember_input(usage: dict, state: dict) -> None:
    state["input_tokens"] = _input_tokens(usage)
    state["cache_read"] = int(usage.get("cache_read_input_tokens") or 0)
    state["cache_write"] = int(usage.get("cache_creation_input_tokens") or 0)


def _usage(usage: dict) -> Usage:
    return Usage(input_tokens=_input_tokens(usage),
                 output_tokens=int(usage.get("output_tokens") or 0),
                 cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
                 cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0))
