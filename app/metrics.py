"""Prometheus metrics: what is counted, the request hooks, and the ``/metrics`` exposition.

Every label takes values from a small known set: routes are URL rules (``/c/<conversation_id>``),
never raw paths; methods outside the usual few are ``other``; vendors are credential names an
admin chose. Model names can come from callers (``openai/<anything>`` reaches the vendor), so
they are recorded only for calls the vendor accepted, and a process records at most
``MAX_MODELS`` of them (further ones are ``other``).

Under gunicorn each worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (set up by
``gunicorn.conf.py`` before the workers fork) and ``/metrics`` adds up every worker's; in a
single process (``make run``, tests) the default registry is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from time import perf_counter
from typing import NamedTuple

from flask import Flask, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.exposition import choose_encoder

from app import memory
from app.vendors.observer import VendorObserver

MAX_MODELS = 100
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"  # the route label of a request no URL rule matched (404, 405)

HTTP_REQUESTS = Counter(
    "parlor_http_requests_total", "HTTP requests answered, by method, URL rule and status.",
    ["method", "route", "status"])
HTTP_DURATION = Histogram(
    "parlor_http_request_duration_seconds",
    "Time to build a response (for a stream: until its first event is ready), by URL rule.",
    ["method", "route"])
UPSTREAM_DURATION = Histogram(
    "parlor_upstream_duration_seconds", "Duration of a vendor's successful whole completion.",
    ["vendor", "model"], buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120))
FIRST_TOKEN = Histogram(
    "parlor_upstream_first_token_seconds", "Time to a vendor stream's first delta (successful).",
    ["vendor", "model"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
TOKENS = Counter(
    "parlor_tokens_total", "Tokens spent, as the usage ledger records them.",
    ["vendor", "model", "type"])
ACTIVE_STREAMS = Gauge(
    "parlor_active_streams", "Streamed responses being sent now (v1: /v1 API, rest: /api/v1, "
    "web: chat page).", ["source"], multiprocess_mode="livesum")
RETRIES = Counter(
    "parlor_vendor_retries_total", "Vendor calls tried again on the same route.", ["vendor"])
FALLBACKS = Counter(
    "parlor_vendor_fallbacks_total", "Calls moved on to the next route after this vendor's "
    "route failed.", ["vendor"])
VENDOR_ERRORS = Counter(
    "parlor_vendor_errors_total", "Failed vendor attempts, by Parlor's error kind.",
    ["vendor", "kind"])
SHED = Counter(
    "parlor_shed_total", "Requests refused with 503 before any work (app/admission.py), by "
    "reason: concurrency (the worker held its limit), loop_lag (its event loop ran late).",
    ["reason"])
LOOP_LAG = Gauge(
    "parlor_event_loop_lag_seconds", "How late a worker's event loop runs (the largest of the "
    "live workers'; gunicorn's gevent workers only).", multiprocess_mode="livemax")
COOLDOWNS = Counter(
    "parlor_route_cooldowns_total", "Deployments (routes) of this vendor taken out of rotation "
    "after repeated transient errors.", ["vendor"])
HEALTH_CHECKS = Counter(
    "parlor_deployment_health_check_total", "Active health checks of this vendor's deployments "
    "(PARLOR_HEALTH_CHECK_INTERVAL), by result: ok or the error kind.", ["vendor", "result"])


class _HttpSeries(NamedTuple):
    """The two series one (method, route, status) of a request counts in."""

    requests: object  # a labelled HTTP_REQUESTS counter
    duration: object  # a labelled HTTP_DURATION histogram


_http_series: dict[tuple[str, str, int], _HttpSeries] = {}
_models: set[tuple[str, str]] = set()
_children: dict[tuple, object] = {}  # labelled series, looked up once (labels() locks, copies)


def _series(metric, *labels: str):
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def init_app(app: Flask) -> None:
    """Count and time every request (register it before hooks that may answer early)."""
    app.before_request(_start_timer)
    app.after_request(_observe_request)


def _start_timer() -> None:
    g.metrics_started = perf_counter()


def _observe_request(response):
    started = g.get("metrics_started")
    if started is None:  # a hook registered earlier answered first
        return response
    rule, method = request.url_rule, request.method
    if method not in METHODS:  # any token is a method to werkzeug
        method = "other"
    key = (method, rule.rule if rule is not None else UNMATCHED, response.status_code)
    series = _http_series.get(key)
    if series is None:
        series = _http_series[key] = _http_labels(*key)
    series.requests.inc()
    series.duration.observe(perf_counter() - started)
    return response


def _http_labels(method: str, route: str, status: int) -> _HttpSeries:
    return _HttpSeries(HTTP_REQUESTS.labels(method, route, str(status)),
                       HTTP_DURATION.labels(method, route))


def model_label(vendor: str, model: str) -> str:
    """``model``, or ``other`` once this process has recorded ``MAX_MODELS`` others."""
    key = (vendor, model)
    if key in _models:
        return model
    if len(_models) >= MAX_MODELS:
        return "other"
    _models.add(key)
    return model


def observe_upstream(vendor: str, model: str, seconds: float) -> None:
    """A whole completion that ``vendor`` answered in ``seconds``."""
    _series(UPSTREAM_DURATION, vendor, model_label(vendor, model)).observe(seconds)


def observe_first_token(vendor: str, model: str, seconds: float) -> None:
    """A stream whose first delta came ``seconds`` after the call started."""
    _series(FIRST_TOKEN, vendor, model_label(vendor, model)).observe(seconds)


def count_tokens(vendor: str, model: str, input_tokens: int, output_tokens: int) -> None:
    """Tokens spent on ``vendor``'s ``model`` (the route's credential name and upstream model)."""
    model = model_label(vendor, model)
    if input_tokens > 0:
        _series(TOKENS, vendor, model, "input").inc(input_tokens)
    if output_tokens > 0:
        _series(TOKENS, vendor, model, "output").inc(output_tokens)


def count_retry(vendor: str) -> None:
    RETRIES.labels(vendor).inc()


def count_fallback(vendor: str) -> None:
    """A route of ``vendor`` failed and the call moves on to the next route."""
    FALLBACKS.labels(vendor).inc()


def count_vendor_error(vendor: str, kind: str) -> None:
    VENDOR_ERRORS.labels(vendor, kind).inc()


def count_shed(reason: str) -> None:
    """A request refused by admission control (``concurrency`` or ``loop_lag``)."""
    _series(SHED, reason).inc()


def observe_loop_lag(seconds: float) -> None:
    LOOP_LAG.set(seconds)


def track_stream(events: Iterator[str], source: str) -> Iterator[str]:
    """``events``, counted in ``parlor_active_streams`` from the first until the end, a failure
    or the client leaving (closing this closes ``events``)."""
    gauge = _series(ACTIVE_STREAMS, source)
    gauge.inc()
    try:
        with memory.stream():
            yield from events
    finally:
        gauge.dec()


def exposition(accept: str | None, multiprocess_dir: str | None) -> tuple[bytes, str]:
    """The metrics in the format ``accept`` asks for (Prometheus text 0.0.4 by default), summed
    over every worker's files when ``multiprocess_dir`` is set."""
    if multiprocess_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir)
    else:
        registry = REGISTRY
    try:
        encoder, content_type = choose_encoder(accept or "")
    except (TypeError, ValueError):  # an unparsable version in Accept
        encoder, content_type = generate_latest, "text/plain; version=0.0.4; charset=utf-8"
    return encoder(registry), content_type


class VendorMetrics(VendorObserver):
    """The vendor manager's observer: what it reports, as the series above."""

    def upstream(self, vendor: str, model: str, seconds: float) -> None:
        observe_upstream(vendor, model, seconds)

    def first_token(self, vendor: str, model: str, seconds: float) -> None:
        observe_first_token(vendor, model, seconds)

    def retry(self, vendor: str) -> None:
        count_retry(vendor)

    def fallback(self, vendor: str) -> None:
        count_fallback(vendor)

    def error(self, vendor: str, kind: str) -> None:
        count_vendor_error(vendor, kind)

    def cooldown(self, vendor: str) -> None:
        COOLDOWNS.labels(vendor).inc()

    def health_check(self, vendor: str, result: str) -> None:
        HEALTH_CHECKS.labels(vendor, result).inc()
