"""Anthropic adapter (Messages API) through the official ``anthropic`` SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import anthropic
import httpx2

from app.vendors.base import VendorHandler, http_client_options
from app.vendors.errors import (
    VendorBadRequest,
    VendorTimeout,
    VendorUnavailable,
    error_for_status,
    parse_retry_after,
    scrub,
)
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
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


class AnthropicHandler(VendorHandler):
    def __init__(self, credential):
        super().__init__(credential)
        self.client = anthropic.Anthropic(
            api_key=credential.api_key or "not-needed",
            base_url=credential.base_url,
            max_retries=0,  # the vendor manager retries, once, with its own budget
            timeout=anthropic.Timeout(credential.timeout, connect=credential.connect_timeout),
            http_client=anthropic.DefaultHttpxClient(**http_client_options()),
        )

    def close(self) -> None:
        self.client.close()

    @contextmanager
    def _translated_errors(self):
        name, secret = self.credential.name, self.credential.api_key
        try:
            yield
        except anthropic.APIStatusError as exc:
            raise error_for_status(
                exc.status_code, scrub(_error_message(exc), secret),
                retry_after=parse_retry_after(exc.response.headers), vendor=name,
            ) from None
        except anthropic.APITimeoutError:
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except anthropic.APIConnectionError:
            raise VendorUnavailable(f"could not reach {name}", vendor=name) from None
        except httpx2.TimeoutException:  # mid-stream: the SDK lets httpx2's own errors through
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except (httpx2.TransportError, json.JSONDecodeError):
            raise VendorUnavailable(f"{name} broke off the reply", vendor=name) from None

    def models(self) -> list[str]:
        with self._translated_errors():
            return sorted(model.id for model in self.client.models.list(limit=1000))

    def complete(self, request: ChatRequest) -> Result:
        with self._translated_errors():
            message = self.client.messages.create(**_params(request))
        text = "".join(block.text for block in message.content if block.type == "text")
        calls = tuple(
            ToolCall(id=block.id, name=block.name, arguments=json.dumps(block.input))
            for block in message.content
            if block.type == "tool_use"
        )
        return Result(
            text=text,
            finish_reason=STOP_REASONS.get(message.stop_reason, "stop"),
            usage=_usage(message.usage),
            model=message.model,
            tool_calls=calls,
            id=message.id,
        )

    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        limits = StallLimits.of(self.credential)
        # until the headers: the first-token timeout; after them the watchdog keeps time
        timeout = anthropic.Timeout(min(limits.first_token, limits.total),
                                    connect=self.credential.connect_timeout)
        started, state = time.monotonic(), {}
        with stall_guard(self.credential.name) as guarded, self._translated_errors():
            upstream = self.client.messages.create(**_params(request), stream=True,
                                                   timeout=timeout)
            guarded.watchdog = StallWatchdog(upstream.response, limits, started)
            with upstream:
                yield from _deltas(upstream, guarded.watchdog, state)
        if state.get("finish") is None or not state.get("finished"):
            raise VendorUnavailable(f"{self.credential.name} ended the reply early",
                                    vendor=self.credential.name)
        yield Delta(finish_reason=state["finish"],
                    usage=Usage(state.get("input_tokens", 0), state.get("output_tokens", 0)))


def _deltas(upstream, watchdog: StallWatchdog, state: dict) -> Iterator[Delta]:
    """The upstream events as deltas; finish reason and token counts are left in ``state``."""
    tool_index, block_is_tool = 0, False
    for event in upstream:
        kind = event.type
        if kind == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                yield Delta(text=delta.text)
            elif delta.type == "input_json_delta":
                yield Delta(tool_call=ToolCallDelta(index=tool_index,
                                                    arguments=delta.partial_json))
        elif kind == "content_block_start":
            block = event.content_block
            block_is_tool = block.type == "tool_use"
            if block_is_tool:
                yield Delta(tool_call=ToolCallDelta(index=tool_index, id=block.id,
                                                    name=block.name))
        elif kind == "content_block_stop":
            if block_is_tool:
                tool_index += 1
            block_is_tool = False
        elif kind == "message_start":
            state["input_tokens"] = _input_tokens(event.message.usage)
        elif kind == "message_delta":
            state["finish"] = STOP_REASONS.get(event.delta.stop_reason, "stop")
            state["output_tokens"] = event.usage.output_tokens or 0
            if getattr(event.usage, "input_tokens", None) is not None:
                state["input_tokens"] = _input_tokens(event.usage)
        elif kind == "message_stop":
            state["finished"] = True
        watchdog.fed()  # the wait for the next event starts now, not while the client read

def _params(request: ChatRequest) -> dict:
    """Translate the normalised request into Messages API parameters.

    Sampling parameters are left out: API version 2026-10-21, which SDK 2.x speaks, refuses them.
    """
    system = "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)
    params: dict = {
        "model": request.model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": _turns([m for m in request.messages if m.role != "system"]),
    }
    if system:
        params["system"] = system
    if request.stop:
        params["stop_sequences"] = list(request.stop)
    if request.tools:
        params["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    if request.tool_choice:
        params["tool_choice"] = {"auto": {"type": "auto"}, "none": {"type": "none"},
                                 "required": {"type": "any"}}.get(
            request.tool_choice, {"type": "tool", "name": request.tool_choice})
    if request.user:
        params["metadata"] = {"user_id": request.user}
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


def _input_tokens(usage) -> int:
    return (
        (usage.input_tokens or 0)
        + (getattr(usage, "cache_read_input_tokens", None) or 0)
        + (getattr(usage, "cache_creation_input_tokens", None) or 0)
    )


def _usage(usage) -> Usage:
    return Usage(input_tokens=_input_tokens(usage), output_tokens=usage.output_tokens or 0)


def _error_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return f"upstream answered {exc.status_code}"
