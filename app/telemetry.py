"""OpenTelemetry traces: off unless an OTLP endpoint is configured (README, Deployment).

On (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set, and not
``OTEL_SDK_DISABLED=true``), each app gets a tracer provider of its own exporting over
OTLP/HTTP (protobuf) through a batch processor; the exporter reads its other ``OTEL_EXPORTER_*``
variables (headers, timeout, compression) itself. Every request is a SERVER span named
``"METHOD route"``, a W3C ``traceparent`` it came with as its parent, ended when its response
is closed (a stream: after its last event). Vendor calls are CLIENT spans under it
(app/vendors/tracing.py). Messages are recorded only with
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``.

Off, nothing here is imported beyond this module and no hook is installed: requests and vendor
calls run exactly as without it. The SDK is imported only by an app that traces: under gunicorn
that is each worker (the app is built after the fork), so every worker has its own exporter
thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import Flask, request

EXTENSION = "parlor.telemetry"
SPAN_KEY = "parlor.span"  # the request's server span, in the WSGI environ
log = logging.getLogger(__name__)
_providers: list = []  # every provider this process made, flushed by shutdown()
FLUSH_MS = 5000  # how long a leaving worker waits for its last spans to go out


class Telemetry:
    """One app's tracer provider and tracers."""

    def __init__(self, config) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.provider = TracerProvider(
            resource=Resource.create({"service.name": config["OTEL_SERVICE_NAME"]}))
        # The exporter reads the endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
        # OTEL_EXPORTER_OTLP_ENDPOINT plus /v1/traces), headers and timeout from the environment;
        # the batch processor its OTEL_BSP_* settings.
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.capture_content = config["OTEL_CAPTURE_CONTENT"]
        self.tracer = self.provider.get_tracer("parlor")
        _providers.append(self.provider)

    def vendor_tracer(self):
        from app.vendors.tracing import VendorTracer

        return VendorTracer(self.provider.get_tracer("parlor.vendors"),
                            capture_content=self.capture_content)


def init_app(app: Flask) -> None:
    """Trace the app's requests when the configuration says so; otherwise do nothing. Register
    it before the admission hook, so a shed request is a span too."""
    if not app.config["OTEL_TRACING"]:
        return
    telemetry = Telemetry(app.config)
    app.extensions[EXTENSION] = telemetry
    app.wsgi_app = ServerSpans(app.wsgi_app, telemetry.tracer)
    app.before_request(_name_span)


def vendor_tracer(app: Flask):
    """The tracer the vendor manager opens its client spans with; None when not tracing."""
    telemetry = app.extensions.get(EXTENSION)
    return None if telemetry is None else telemetry.vendor_tracer()


def carried(target: Callable[[], None]) -> Callable[[], None]:
    """``target`` to run on another greenlet or thread inside the current trace (a chat
    reply's writer: its vendor call is a span of the request that started it); ``target``
    itself when nothing is traced."""
    if not _providers:
        return target
    from opentelemetry import context

    current = context.get_current()

    def run() -> None:
        token = context.attach(current)
        try:
            target()
        finally:
            context.detach(token)

    return run


def shutdown() -> None:
    """Send the spans still batched, waiting at most ``FLUSH_MS`` (a worker leaving; the
    provider itself shuts down when the process exits)."""
    for provider in _providers:
        try:
            provider.force_flush(FLUSH_MS)
        except Exception:  # noqa: BLE001 - a collector that is gone must not block an exit
            log.warning("could not send the last spans", exc_info=True)


def _name_span() -> None:
    """The server span's name and ``http.route`` from the URL rule the request matched."""
    span = request.environ.get(SPAN_KEY)
    if span is not None and request.url_rule is not None:
        route = request.url_rule.rule
        span.update_name(f"{request.method} {route}")
        span.set_attribute("http.route", route)


class _EnvironGetter:
    """Reads W3C trace context headers (``traceparent``) out of a WSGI environ."""

    def get(self, environ: dict, key: str) -> list[str] | None:
        value = environ.get("HTTP_" + key.upper().replace("-", "_"))
        return None if value is None else [value]

    def keys(self, environ: dict) -> list[str]:
        return [k[5:].lower().replace("_", "-") for k in environ if k.startswith("HTTP_")]


class ServerSpans:
    """WSGI middleware: a SERVER span per request, current while the app works on it (and while
    each piece of a streamed body is made), ended when the server closes the response."""

    def __init__(self, app, tracer) -> None:
        from opentelemetry import context, propagate, trace

        self.app = app
        self.tracer = tracer
        self._context, self._propagate, self._trace = context, propagate, trace
        self._getter = _EnvironGetter()

    def __call__(self, environ: dict, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        parent = self._propagate.extract(environ, getter=self._getter)
        span = self.tracer.start_span(
            method, context=parent, kind=self._trace.SpanKind.SERVER,
            attributes={"http.request.method": method,
                        "url.path": environ.get("PATH_INFO", "/"),
                        "url.scheme": environ.get("wsgi.url_scheme", "http")})
        environ[SPAN_KEY] = span
        traced = self._trace.set_span_in_context(span, parent)

        def start(status: str, headers, exc_info=None):
            code = int(status.split(" ", 1)[0])
            span.set_attribute("http.response.status_code", code)
            if code >= 500:
                span.set_attribute("error.type", str(code))
                span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
            return start_response(status, headers, exc_info)

        token = self._context.attach(traced)
        try:
            body = self.app(environ, start)
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
            span.end()
            raise
        finally:
            self._context.detach(token)
        return _TracedBody(body, span, traced, self._context)


class _TracedBody:
    """A response body made inside its request's trace; closing it ends the span."""

    def __init__(self, body: Iterable[bytes], span, traced, context) -> None:
        self._body = body
        self._iterator = None
        self._span, self._traced, self._context = span, traced, context

    def __iter__(self):
        self._iterator = iter(self._body)
        return self

    def __next__(self) -> bytes:
        token = self._context.attach(self._traced)
        try:
            return next(self._iterator)
        finally:
            self._context.detach(token)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._span.end()
