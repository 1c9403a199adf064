"""Client spans of vendor calls, after OpenTelemetry's GenAI semantic conventions.

The app injects a :class:`VendorTracer` into the manager when tracing is on (app/telemetry.py);
without one the manager adds nothing to a call. Each attempt on a route is a span of kind CLIENT
named ``"{operation} {model}"`` (``chat gpt-4o``) carrying the model, the tokens and the finish
reason; a stream's span ends when the stream does. While a call is sent its span is current, and
:func:`trace_headers` puts its W3C ``traceparent`` on the upstream request (``sender.py``).
Messages go on a span (``gen_ai.input.messages`` / ``gen_ai.output.messages``) only with
``capture_content``.

Only ``opentelemetry-api`` is used, imported when a tracer is made: a process that does not
trace never loads it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

# GenAI's names of the providers Parlor's vendor kinds call; another kind is named as it is.
PROVIDERS = {"openai": "openai", "openai-compatible": "openai", "anthropic": "anthropic",
             "azure": "azure.ai.openai", "gemini": "gcp.gemini", "bedrock": "aws.bedrock"}
DEFAULT_URLS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com",
                "gemini": "https://generativelanguage.googleapis.com"}

_propagating = False  # a tracer exists: upstream requests carry the current trace context


class VendorTracer:
    """Opens a client span per vendor call (``tracer``: an OpenTelemetry ``Tracer``)."""

    def __init__(self, tracer, *, capture_content: bool = False):
        global _propagating
        from opentelemetry import context, trace

        self._tracer = tracer
        self._context = context
        self._trace = trace
        self.capture_content = capture_content
        _propagating = True

    def traced(self, operation: str, call: Callable) -> Callable:
        """``call(handler, request, route)`` inside a client span; a stream it returns (an
        object with a ``trace`` slot) ends the span when it ends."""

        def run(handler, request, route):
            span = self._start(operation, request, route)
            token = self._context.attach(self._trace.set_span_in_context(span))
            try:
                result = call(handler, request, route)
            except BaseException as exc:
                _failed(span, exc)
                span.end()
                raise
            finally:
                self._context.detach(token)
            if hasattr(result, "trace"):
                result.trace = StreamSpan(span, self.capture_content)
            else:
                _answered(span, result, self.capture_content)
                span.end()
            return result

        return run

    def _start(self, operation: str, request, route):
        credential = route.credential
        provider = PROVIDERS.get(credential.kind, credential.kind)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": provider,
            "gen_ai.system": provider,
            "gen_ai.request.model": request.model,
            "parlor.vendor.name": credential.name,
        }
        for name, value in (("max_tokens", getattr(request, "max_tokens", None)),
                            ("temperature", getattr(request, "temperature", None)),
                            ("top_p", getattr(request, "top_p", None))):
            if value is not None:
                attributes[f"gen_ai.request.{name}"] = value
        url = credential.base_url or DEFAULT_URLS.get(credential.kind)
        if url:
            parts = urlsplit(url)
            if parts.hostname:
                attributes["server.address"] = parts.hostname
                attributes["server.port"] = parts.port or (443 if parts.scheme == "https"
                                                           else 80)
        if self.capture_content and hasattr(request, "messages"):
            attributes["gen_ai.input.messages"] = json.dumps(
                [_message(m) for m in request.messages], ensure_ascii=False)
        return self._tracer.start_span(f"{operation} {request.model}",
                                       kind=self._trace.SpanKind.CLIENT, attributes=attributes)


class StreamSpan:
    """A streamed call's span: tokens and finish reason from the deltas, ended with the stream."""

    def __init__(self, span, capture_content: bool):
        self._span = span
        self._text: list[str] | None = [] if capture_content else None
        self._finish: str | None = None
        self._ended = False

    def saw(self, delta) -> None:
        """A chat stream's delta, or an event of a native Responses API stream."""
        if getattr(delta, "type", None) is not None:  # a ResponseEvent: its last one says it all
            if delta.final and delta.response is not None:
                _response_object(self._span, delta.response)
            return
        if self._text is not None and delta.text:
            self._text.append(delta.text)
        if delta.finish_reason:
            self._finish = delta.finish_reason
            self._span.set_attribute("gen_ai.response.finish_reasons", [delta.finish_reason])
        if delta.usage is not None:
            _usage(self._span, delta.usage)

    def end(self, error: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        if error is not None:
            _failed(self._span, error)
        if self._text is not None:
            _output(self._span, "".join(self._text), self._finish)
        self._span.end()


def trace_headers(headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """``headers`` with the current span's ``traceparent`` (and ``tracestate``) added when
    this process traces; the same object, untouched, when it does not."""
    if not _propagating:
        return headers
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if not carrier:
        return headers
    return {**(headers or {}), **carrier}


def _answered(span, result, capture_content: bool) -> None:
    """A whole answer's attributes: a chat Result, Embeddings, or a Responses API response
    object (a dict)."""
    if isinstance(result, dict):
        _response_object(span, result)
        return
    model = getattr(result, "model", None)
    if model:
        span.set_attribute("gen_ai.response.model", model)
    if getattr(result, "id", None):
        span.set_attribute("gen_ai.response.id", result.id)
    finish = getattr(result, "finish_reason", None)
    if finish:
        span.set_attribute("gen_ai.response.finish_reasons", [finish])
    if getattr(result, "usage", None) is not None:
        _usage(span, result.usage)
    if capture_content and hasattr(result, "text"):
        _output(span, result.text, finish)


def _response_object(span, response: dict) -> None:
    """The attributes of an OpenAI Responses API response object, as the vendor sent it."""
    for key, name in (("model", "gen_ai.response.model"), ("id", "gen_ai.response.id")):
        if isinstance(response.get(key), str):
            span.set_attribute(name, response[key])
    status = response.get("status")
    reason = (response.get("incomplete_details") or {}).get("reason")
    finish = {"completed": "stop", "failed": "error"}.get(status) or reason or status
    if isinstance(finish, str):
        span.set_attribute("gen_ai.response.finish_reasons", [finish])
    usage = response.get("usage")
    if isinstance(usage, dict):
        for key in ("input_tokens", "output_tokens"):
            if isinstance(usage.get(key), int):
                span.set_attribute(f"gen_ai.usage.{key}", usage[key])


def _usage(span, usage) -> None:
    span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
    span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)


def _failed(span, exc: BaseException) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", type(exc).__qualname__)
    # The type only: an error's message may quote what the vendor was sent.
    span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))


def _output(span, text: str, finish: str | None) -> None:
    message: dict[str, Any] = {"role": "assistant", "parts": [{"type": "text", "content": text}]}
    if finish:
        message["finish_reason"] = finish
    span.set_attribute("gen_ai.output.messages", json.dumps([message], ensure_ascii=False))


def _message(message) -> dict:
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"type": "text", "content": message.content})
    for call in message.tool_calls:
        parts.append({"type": "tool_call", "id": call.id, "name": call.name,
                      "arguments": call.arguments})
    if message.tool_call_id:
        parts = [{"type": "tool_call_response", "id": message.tool_call_id,
                  "response": message.content}]
    return {"role": message.role, "parts": parts}
