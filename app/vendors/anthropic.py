"""Anthropic adapter (Messages API) on the official ``anthropic`` SDK's client.

The SDK client's URL, auth and version headers frame each call (see :mod:`app.vendors.sender`),
sent on its connection pool; replies and stream events are read with json.loads alone, not
through its pydantic models.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager

import anthropic
import httpx2

from app.vendors.base import VendorHandler
from app.vendors.errors import (
    VendorBadRequest,
    VendorTimeout,
    VendorUnavailable,
    error_for_status,
    parse_retry_after,
    scrub,
)
from app.vendors.sender import Endpoint, error_message, sse_lines
from app.vendors.transport import http_client_options
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Credential,
    Delta,
    Result,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from app.vendors.watchdog import StallLimits, StallWatchdog, stall_guard

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
# What a reply or an event of the wrong shape raises while it is read.
MALFORMED = (AttributeError, KeyError, IndexError, TypeError, ValueError, OverflowError)


class AnthropicHandler(VendorHandler):
    def __init__(self, credential):
        super().__init__(credential)
        http = anthropic.DefaultHttpxClient(**http_client_options())
        self.client = anthropic.Anthropic(
            api_key=credential.api_key or "not-needed",
            base_url=credential.base_url,
            max_retries=0,  # the vendor manager retries, once, with its own budget
            timeout=anthropic.Timeout(credential.timeout, connect=credential.connect_timeout),
            http_client=http,
        )
        self.messages = Endpoint(self.client, http, "/v1/messages",
                                 vendor=credential.name, secret=credential.api_key)

    def close(self) -> None:
        self.client.close()

    @contextmanager
    def _translated_errors(self):
        name, secret = self.credential.name, self.credential.api_key
        try:
            yield
        except anthropic.APIStatusError as exc:  # the model listing: chat calls raise their own
            message = error_message(exc.status_code, exc.response.content)
            raise error_for_status(
                exc.status_code, scrub(message, secret),
                retry_after=parse_retry_after(exc.response.headers), vendor=name,
            ) from None
        except anthropic.APITimeoutError:
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except anthropic.APIConnectionError:
            raise VendorUnavailable(f"could not reach {name}", vendor=name) from None
        except httpx2.TimeoutException:  # mid-stream reads raise httpx2's own errors
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except (httpx2.TransportError, json.JSONDecodeError):
            raise VendorUnavailable(f"{name} broke off the reply", vendor=name) from None

    def models(self) -> list[str]:
        with self._translated_errors():
            return sorted(model.id for model in self.client.models.list(limit=1000))

    def complete(self, request: ChatRequest) -> Result:
        with self._translated_errors():
            content = self.messages.post(_params(request)).content
        try:
            return _read_message(json.loads(content), request.model)
        except MALFORMED:
            raise VendorUnavailable(f"{self.credential.name} sent a malformed reply",
                                    vendor=self.credential.name) from None

    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        limits = StallLimits.of(self.credential)
        # until the headers: the first-token timeout; after them the watchdog keeps time
        timeout = anthropic.Timeout(min(limits.first_token, limits.total),
                                    connect=self.credential.connect_timeout)
        started, state = time.monotonic(), {}
        with stall_guard(self.credential.name) as guarded, self._translated_errors():
            params = _params(request, stream=True)
            with closing(self.messages.post(params, stream=True, timeout=timeout)) as upstream:
                guarded.watchdog = StallWatchdog(upstream, limits, started)
                yield from _deltas(sse_lines(upstream), guarded.watchdog, state,
                                   self.credential)
        if state.get("finish") is None or not state.get("finished"):
            raise VendorUnavailable(f"{self.credential.name} ended the reply early",
                                    vendor=self.credential.name)
        yield Delta(finish_reason=state["finish"],
                    usage=Usage(state.get("input_tokens", 0), state.get("output_tokens", 0)))


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
        if delta.get("type") == "text_delta":
            return [Delta(text=_string(delta["text"]))]
        if delta.get("type") == "input_json_delta" and state.get("in_tool"):
            return [Delta(tool_call=ToolCallDelta(index=state.get("tools", 0),
                                                  arguments=_string(delta["partial_json"])))]
    elif kind == "content_block_start":
        block = event["content_block"]
        state["in_tool"] = block.get("type") == "tool_use"
        if state["in_tool"]:
            return [Delta(tool_call=ToolCallDelta(index=state.get("tools", 0),
                                                  id=_string(block["id"]),
                                                  name=_string(block["name"])))]
    elif kind == "content_block_stop":
        if state.pop("in_tool", False):
            state["tools"] = state.get("tools", 0) + 1
    elif kind == "message_start":
        state["input_tokens"] = _input_tokens(event["message"].get("usage") or {})
    elif kind == "message_delta":
        state["finish"] = STOP_REASONS.get((event.get("delta") or {}).get("stop_reason"), "stop")
        usage = event.get("usage") or {}
        state["output_tokens"] = int(usage.get("output_tokens") or 0)
        if usage.get("input_tokens") is not None:
            state["input_tokens"] = _input_tokens(usage)
    elif kind == "message_stop":
        state["finished"] = True
    return []


def _read_message(body: dict, model: str) -> Result:
    """A Messages reply body as a Result (a wrong shape raises a built-in error)."""
    blocks = body["content"]
    text = "".join(_string(block["text"]) for block in blocks if block.get("type") == "text")
    calls = tuple(
        ToolCall(id=_string(block["id"]), name=_string(block["name"]),
                 arguments=json.dumps(block.get("input") or {}))
        for block in blocks
        if block.get("type") == "tool_use"
    )
    return Result(
        text=text,
        finish_reason=STOP_REASONS.get(body.get("stop_reason"), "stop"),
        usage=_usage(body.get("usage") or {}),
        model=str(body.get("model") or model),
        tool_calls=calls,
        id=str(body.get("id") or ""),
    )


def _string(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _params(request: ChatRequest, *, stream: bool = False) -> dict:
    """Translate the normalised request into the Messages API body.

    Keys go in the order ``messages.create`` sent them, so the bytes on the wire are unchanged.
    Sampling parameters are left out: API version 2026-10-21, which SDK 2.x speaks, refuses them.
    """
    system = "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)
    params: dict = {
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": _turns([m for m in request.messages if m.role != "system"]),
        "model": request.model,
    }
    if request.user:
        params["metadata"] = {"user_id": request.user}
    if request.stop:
        params["stop_sequences"] = list(request.stop)
    if stream:
        params["stream"] = True
    if system:
        params["system"] = system
    if request.tool_choice:
        params["tool_choice"] = {"auto": {"type": "auto"}, "none": {"type": "none"},
                                 "required": {"type": "any"}}.get(
            request.tool_choice, {"type": "tool", "name": request.tool_choice})
    if request.tools:
        params["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    return params


def _turns(messages: list[ChatMessage]) -> list[dict]:
    """Alternating user/assistant turns: tool results become user turns, same roles merge."""
    turns: list[dict] = []
    for message in messages:
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
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


def _blocks(message: ChatMessage) -> list[dict]:
    if message.role == "tool":
        return [{"type": "tool_result", "tool_use_id": message.tool_call_id,
                 "content": message.content}]
    blocks: list[dict] = [{"type": "text", "text": message.content}] if message.content else []
    for call in message.tool_calls:
        try:
            arguments = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            raise VendorBadRequest(f"tool call {call.id} has arguments that are not JSON") from None
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments})
    return blocks


def _input_tokens(usage: dict) -> int:
    return (
        int(usage.get("input_tokens") or 0)
        + int(usage.get("cache_read_input_tokens") or 0)
        + int(usage.get("cache_creation_input_tokens") or 0)
    )


def _usage(usage: dict) -> Usage:
    return Usage(input_tokens=_input_tokens(usage),
                 output_tokens=int(usage.get("output_tokens") or 0))
