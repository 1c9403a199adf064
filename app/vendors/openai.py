"""OpenAI adapter, also for any OpenAI-compatible server (vLLM, llama.cpp, Ollama) by base URL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import openai

from app.vendors.base import VendorHandler
from app.vendors.errors import (
    VendorError,
    VendorTimeout,
    VendorUnavailable,
    error_for_status,
    parse_retry_after,
    scrub,
)
from app.vendors.types import ChatRequest, Delta, Result, ToolCall, ToolCallDelta, Usage
from app.vendors.watchdog import StallLimits, StallWatchdog

FINISH_REASONS = {"function_call": "tool_calls"}


class OpenAIHandler(VendorHandler):
    def __init__(self, credential):
        super().__init__(credential)
        self.client = openai.OpenAI(
            api_key=credential.api_key or "not-needed",
            base_url=credential.base_url,
            max_retries=0,  # the vendor manager retries, once, with its own budget
            timeout=openai.Timeout(credential.timeout, connect=credential.connect_timeout),
        )

    def close(self) -> None:
        self.client.close()

    @contextmanager
    def _translated_errors(self):
        name, secret = self.credential.name, self.credential.api_key
        try:
            yield
        except openai.APIStatusError as exc:
            message = scrub(_error_message(exc), secret)
            raise error_for_status(
                exc.status_code, message,
                retry_after=parse_retry_after(exc.response.headers), vendor=name,
            ) from None
        except openai.APITimeoutError:
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except openai.APIConnectionError:
            raise VendorUnavailable(f"could not reach {name}", vendor=name) from None
        except openai.APIError as exc:  # an error event inside a stream
            raise VendorUnavailable(scrub(exc.message, secret), vendor=name) from None
        except (httpx2.TransportError, json.JSONDecodeError):
            raise VendorUnavailable(f"{name} broke off the reply", vendor=name) from None

    def models(self) -> list[str]:
        with self._translated_errors():
            return sorted(model.id for model in self.client.models.list())

    def _params(self, request: ChatRequest) -> dict:
        params: dict = {"model": request.model, "messages": [_message(m) for m in request.messages]}
        if request.max_tokens is not None:
            # Reasoning models refuse the legacy field; compatible servers often know only it.
            field = "max_completion_tokens" if self.credential.kind == "openai" else "max_tokens"
            params[field] = request.max_tokens
        for name in ("temperature", "top_p", "user"):
            if getattr(request, name) is not None:
                params[name] = getattr(request, name)
        if request.stop:
            params["stop"] = list(request.stop)
        if request.tools:
            params["tools"] = [
                {"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in request.tools
            ]
        if request.tool_choice:
            params["tool_choice"] = (
                request.tool_choice if request.tool_choice in ("auto", "none", "required")
                else {"type": "function", "function": {"name": request.tool_choice}}
            )
        return params

    def complete(self, request: ChatRequest) -> Result:
        with self._translated_errors():
            response = self.client.chat.completions.create(**self._params(request))
        choice = response.choices[0]
        calls = tuple(
            ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
            for c in (choice.message.tool_calls or [])
        )
        return Result(
            text=choice.message.content or "",
            finish_reason=_finish(choice.finish_reason),
            usage=_usage(response.usage),
            model=response.model,
            tool_calls=calls,
            id=response.id,
        )

    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        limits = StallLimits.of(self.credential)
        params = self._params(request) | {
            "stream": True, "stream_options": {"include_usage": True},
            # until the headers: the first-token timeout; after them the watchdog keeps time
            "timeout": openai.Timeout(min(limits.first_token, limits.total),
                                      connect=self.credential.connect_timeout)}
        watchdog, started, state = None, time.monotonic(), {}
        try:
            with self._translated_errors():
                upstream = self.client.chat.completions.create(**params)
                watchdog = StallWatchdog(upstream.response, limits, started)
                with upstream:
                    yield from self._deltas(upstream, watchdog, state)
        except VendorError:
            if watchdog is not None and watchdog.fired:
                raise watchdog.error(self.credential.name) from None
            raise
        finally:
            if watchdog is not None:
                watchdog.close()
        if watchdog.fired:
            raise watchdog.error(self.credential.name)
        finish, usage = state.get("finish"), state.get("usage")
        if finish is None:
            raise VendorUnavailable(f"{self.credential.name} ended the reply early",
                                    vendor=self.credential.name)
        yield Delta(finish_reason=finish, usage=usage or Usage())

    @staticmethod
    def _deltas(upstream, watchdog: StallWatchdog, state: dict) -> Iterator[Delta]:
        """The upstream chunks as deltas; the finish reason and usage are left in ``state``."""
        for chunk in upstream:
            if chunk.usage is not None:
                state["usage"] = _usage(chunk.usage)
            for choice in chunk.choices[:1]:
                delta = choice.delta
                if delta.content:
                    yield Delta(text=delta.content)
                for call in delta.tool_calls or []:
                    function = call.function
                    yield Delta(tool_call=ToolCallDelta(
                        index=call.index, id=call.id,
                        name=function.name if function else None,
                        arguments=(function.arguments or "") if function else "",
                    ))
                if choice.finish_reason:
                    state["finish"] = _finish(choice.finish_reason)
            watchdog.fed()  # the wait for the next chunk starts now, not while the client read


def _message(message) -> dict:
    out: dict = {"role": message.role, "content": message.content}
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    return out


def _finish(reason: str | None):
    reason = FINISH_REASONS.get(reason, reason)
    return reason if reason in ("stop", "length", "tool_calls", "content_filter") else "stop"


def _usage(usage) -> Usage:
    if usage is None:
        return Usage()
    return Usage(input_tokens=usage.prompt_tokens or 0, output_tokens=usage.completion_tokens or 0)


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return f"upstream answered {exc.status_code}"

