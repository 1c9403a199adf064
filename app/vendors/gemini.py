"""Google Gemini through its official SDK (``google-genai``): ``generateContent`` and
``streamGenerateContent`` (server-sent events), function calling and usage.

Gemini has no wire format of its own among Parlor's: every request is translated (system
turns become the system instruction, assistant turns ``model`` ones, tool results
``functionResponse`` parts). The SDK is imported with this module, when a credential of the
``gemini`` kind is first used. Its retries are off (the vendor manager retries); its
``httpx2`` client keeps the credential's connect and read timeouts, and a stream, once open,
is kept to its first-token, idle and total limits by the stall watchdog (watchdog.py) as the
other adapters' are.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from app.vendors.base import VendorHandler
from app.vendors.errors import (
    VendorAuthError,
    VendorTimeout,
    VendorUnavailable,
    error_for_status,
    parse_retry_after,
    scrub,
)
from app.vendors.tracing import trace_headers
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Credential,
    Delta,
    Part,
    Result,
    ToolCall,
    ToolCallDelta,
    Usage,
    budget_for_effort,
)
from app.vendors.watchdog import StallLimits, opening, stall_guard, watch_opened

FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter",
                  "RECITATION": "content_filter", "BLOCKLIST": "content_filter",
                  "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
                  "IMAGE_SAFETY": "content_filter"}
MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
# Gemini answers a key it does not know with 400 INVALID_ARGUMENT and this reason.
AUTH_REASONS = {"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"}


class GeminiHandler(VendorHandler):
    def __init__(self, credential: Credential):
        super().__init__(credential)
        read = float(credential.option("idle_timeout") or credential.timeout)
        self.http = httpx2.Client(timeout=httpx2.Timeout(read, connect=credential.connect_timeout),
                                  event_hooks={"response": [watch_opened]})
        options: dict = {
            "timeout": int(credential.timeout * 1000),  # milliseconds
            "retry_options": genai_types.HttpRetryOptions(attempts=1),
            "httpx_client": self.http,
        }
        if credential.base_url:
            options["base_url"] = credential.base_url
        if credential.option("api_version"):
            options["api_version"] = credential.option("api_version")
        self.client = genai.Client(api_key=credential.api_key,
                                   http_options=genai_types.HttpOptions(**options))

    def close(self) -> None:
        self.http.close()

    def models(self) -> list[str]:
        with self.translated_errors():
            return sorted(m.name.removeprefix("models/") for m in self.client.models.list()
                          if m.name)

    def complete(self, request: ChatRequest) -> Result:
        with self.translated_errors():
            response = self.client.models.generate_content(**self._params(request))
        with self.well_formed():
            text, thinking, calls = _read_parts(response, itertools.count())
            finish = _finish(response, bool(calls))
            return Result(
                text=text, finish_reason=finish, usage=_usage(response.usage_metadata),
                model=response.model_version or request.model, tool_calls=tuple(calls),
                id=response.response_id or "",
                thinking=(Part("thinking", text=thinking),) if thinking else ())

    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        finish, usage, calls = None, None, 0
        ids = itertools.count()
        limits, started = StallLimits.of(self.credential), time.monotonic()
        with stall_guard(self.credential.name) as guarded, self.translated_errors():
            chunks = self.client.models.generate_content_stream(**self._params(request))
            try:
                with opening(guarded, limits, started):  # the SDK sends it on the first next()
                    first = next(chunks, None)
                for chunk in itertools.chain(() if first is None else (first,), chunks):
                    if guarded.watchdog is not None:
                        guarded.watchdog.fed()
                    with self.well_formed("chunk"):
                        text, thinking, found = _read_parts(chunk, ids)
                        if thinking:
                            yield Delta(thinking=thinking)
                        if text:
                            yield Delta(text=text)
                        for call in found:
                            yield Delta(tool_call=ToolCallDelta(
                                index=calls, id=call.id, name=call.name,
                                arguments=call.arguments))
                            calls += 1
                        if chunk.usage_metadata is not None:
                            usage = _usage(chunk.usage_metadata)
                        if chunk.candidates and chunk.candidates[0].finish_reason:
                            finish = _finish(chunk, calls > 0)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()  # a client that hangs up closes the upstream too
        if finish is None:
            raise VendorUnavailable(f"{self.credential.name} ended the reply early",
                                    vendor=self.credential.name)
        yield Delta(finish_reason="tool_calls" if calls else finish, usage=usage or Usage())

    def _params(self, request: ChatRequest) -> dict:
        names = {call.id: call.name for m in request.messages for call in m.tool_calls}
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        contents = [_content(m, names) for m in request.messages if m.role != "system"]
        config: dict = {"automatic_function_calling": {"disable": True}}
        if system:
            config["system_instruction"] = system
        if request.max_tokens is not None:
            config["max_output_tokens"] = request.max_tokens
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if request.top_p is not None:
            config["top_p"] = request.top_p
        if request.stop:
            config["stop_sequences"] = list(request.stop)
        declarations = [{"name": t.name, "description": t.description,
                         "parameters_json_schema": dict(t.parameters)}
                        for t in request.tools if t.native is None]
        if declarations:
            config["tools"] = [{"function_declarations": declarations}]
            if request.tool_choice:
                mode = MODES.get(request.tool_choice)
                calling: dict = {"mode": mode or "ANY"}
                if mode is None:  # one named tool must be called
                    calling["allowed_function_names"] = [request.tool_choice]
                config["tool_config"] = {"function_calling_config": calling}
        if request.output_format is not None:
            config["response_mime_type"] = "application/json"
            if request.output_format.schema:
                config["response_json_schema"] = dict(request.output_format.schema)
        reasoning = request.reasoning
        if reasoning is not None and reasoning.mode != "disabled" and (
                reasoning.effort or reasoning.budget_tokens):
            config["thinking_config"] = {
                "thinking_budget": reasoning.budget_tokens or budget_for_effort(
                    reasoning.effort or "medium"),
                "include_thoughts": True}
        if headers := trace_headers(None):  # the call's traceparent, when the app traces
            config["http_options"] = {"headers": dict(headers)}
        return {"model": request.model, "contents": contents, "config": config}

    @contextmanager
    def translated_errors(self):
        """The SDK's and httpx2's errors as Parlor's (messages scrubbed of the key)."""
        name, secret = self.credential.name, self.credential.api_key
        try:
            yield
        except genai_errors.APIError as exc:
            message = scrub(str(exc.message or f"upstream answered {exc.code}"), secret)
            retry_after = parse_retry_after(getattr(exc.response, "headers", None))
            if _reason(exc.details) & AUTH_REASONS:
                raise VendorAuthError(message, vendor=name) from None
            raise error_for_status(int(exc.code or 502), message, retry_after=retry_after,
                                   vendor=name) from None
        except httpx2.TimeoutException:
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except httpx2.TransportError:
            raise VendorUnavailable(f"could not reach {name}", vendor=name) from None
        except (ValueError, json.JSONDecodeError):  # a body the SDK could not read
            raise VendorUnavailable(f"{name} sent a malformed reply", vendor=name) from None

    @contextmanager
    def well_formed(self, what: str = "reply"):
        try:
            yield
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            raise VendorUnavailable(f"{self.credential.name} sent a malformed {what}",
                                    vendor=self.credential.name) from None


def _content(message: ChatMessage, names: dict[str, str]) -> dict:
    """One turn as Gemini's ``Content``: ``user`` or ``model`` with its parts."""
    if message.role == "tool":
        return {"role": "user", "parts": [{"function_response": {
            "id": message.tool_call_id, "name": names.get(message.tool_call_id or "", "tool"),
            "response": {"error" if message.is_error else "result": message.content}}}]}
    parts = [_part(p) for p in message.parts if _part(p)] if message.parts else (
        [{"text": message.content}] if message.content else [])
    if message.role == "assistant":
        parts += [{"function_call": {"id": call.id, "name": call.name,
                                     "args": json.loads(call.arguments or "{}")}}
                  for call in message.tool_calls]
    return {"role": "model" if message.role == "assistant" else "user",
            "parts": parts or [{"text": ""}]}


def _part(part: Part) -> dict | None:
    if part.type == "text":
        return {"text": part.text}
    if part.type in ("image", "document") and part.has_source():
        return {"inline_data": {"mime_type": part.media_type, "data": part.raw()}}
    if part.type in ("image", "document") and part.url:
        return {"file_data": {"file_uri": part.url, "mime_type": part.media_type}}
    if part.type == "document" and part.text:
        return {"text": f"{part.name or 'document'}:\n{part.text}"}
    return None  # earlier thinking and other vendors' blocks stay behind


def _read_parts(response, ids) -> tuple[str, str, list[ToolCall]]:
    """The text, the thought text and the function calls of the first candidate."""
    text, thinking, calls = [], [], []
    candidate = (response.candidates or [None])[0]
    for part in (candidate.content.parts or []) if candidate and candidate.content else []:
        if part.function_call is not None:
            call = part.function_call
            calls.append(ToolCall(id=call.id or f"call_gemini_{next(ids)}", name=call.name,
                                  arguments=json.dumps(call.args or {})))
        elif part.text and part.thought:
            thinking.append(part.text)
        elif part.text:
            text.append(part.text)
    return "".join(text), "".join(thinking), calls


def _finish(response, called: bool):
    candidate = (response.candidates or [None])[0]
    reason = candidate.finish_reason if candidate is not None else None
    if called:
        return "tool_calls"
    name = getattr(reason, "value", reason)
    return FINISH_REASONS.get(str(name), "stop") if name else "stop"


def _usage(usage) -> Usage:
    if usage is None:
        return Usage()
    thoughts = usage.thoughts_token_count or 0
    return Usage(input_tokens=usage.prompt_token_count or 0,
                 output_tokens=(usage.candidates_token_count or 0) + thoughts,
                 cache_read_tokens=usage.cached_content_token_count or 0,
                 reasoning_tokens=thoughts)


def _reason(details) -> set[str]:
    """The ``ErrorInfo`` reasons of an error body (``API_KEY_INVALID``...)."""
    error = details.get("error", details) if isinstance(details, dict) else {}
    found = error.get("details") if isinstance(error, dict) else None
    return {d.get("reason") for d in found or () if isinstance(d, dict) and d.get("reason")}
