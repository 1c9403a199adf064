"""Load shedding: a worker refuses new requests with a fast 503 while it is full or late.

Each worker process admits a request only while

- it holds fewer than ``PARLOR_MAX_CONCURRENT_REQUESTS`` requests (streams count, from
  arrival to their last event: a stream waiting on its vendor costs a connection slot and a
  greenlet, little else; gunicorn's ``worker_connections`` leaves room above the limit, so a
  request past it is answered, not left in the listen backlog), and
- its event loop is not running more than ``PARLOR_MAX_LOOP_LAG_MS`` late (under gevent: a
  greenlet that wakes every ``TICK`` seconds measures how late it wakes; a loop that late has
  more work than CPU, and every stream it holds is waiting on it).

Past either, the request gets 503 with ``Retry-After`` in its caller's shape (OpenAI or
Anthropic error JSON on ``/v1``, the REST error on ``/api/v1``, an HTML page for the browser)
before anything else runs: no database, no authentication, no body read. Health and metrics
routes are always served. Each refusal counts in ``parlor_shed_total`` by reason.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app, render_template, request
from werkzeug.wsgi import ClosingIterator

from app import metrics
from app.api import errors

EXTENSION = "parlor.admission"
ALWAYS_SERVED = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER = 1  # seconds: a worker that is full now usually has room within a second
TICK = 0.1  # seconds between two wakes of the loop-lag probe
DECAY = 0.5  # each on-time wake halves the lag remembered from a late one
MESSAGE = "Parlor is at capacity right now; try again in a moment."


class LoopLag:
    """How late this process's gevent loop runs: a greenlet sleeps ``TICK`` seconds at a time
    and notes how late it woke. A late wake is remembered and fades by half each tick, so a
    worker just out of a stall still sheds for a moment; a wake that is overdue right now (the
    loop is busy this very moment) counts too."""

    def __init__(self) -> None:
        self.recent = 0.0  # seconds
        self._due: float | None = None
        self._greenlet = None

    def start(self) -> None:
        """Start probing, once, in a gevent-patched process (a gunicorn worker); elsewhere
        (tests, the development server, the CLI) the lag stays 0."""
        if self._greenlet is not None or not _gevent_patched():
            return
        import gevent

        self._due = time.monotonic() + TICK
        self._greenlet = gevent.spawn(self._probe)

    def _probe(self) -> None:
        import gevent

        while True:
            gevent.sleep(TICK)
            now = time.monotonic()
            late = max(0.0, now - self._due)
            self.recent = max(late, self.recent * DECAY)
            self._due = now + TICK
            metrics.observe_loop_lag(self.recent)

    def seconds(self) -> float:
        """The lag to judge a request by: the remembered one, or the probe's current delay."""
        if self._due is None:
            return 0.0
        return max(self.recent, time.monotonic() - self._due)


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("time")


class Admission:
    """One worker's count of the requests it holds, its loop lag and its limits."""

    def __init__(self, max_requests: int, max_lag_ms: float) -> None:
        self.max_requests = max_requests  # 0: no limit
        self.max_lag = max_lag_ms / 1000  # seconds; 0: no limit
        self.held = 0
        self.lag = LoopLag()
        self._lock = threading.Lock()  # a gevent lock in a worker; threads in development

    def refusal(self) -> str | None:
        """Why the current request (already counted in ``held``) must be shed, or None."""
        if self.max_requests and self.held > self.max_requests:
            return "concurrency"
        if self.max_lag and self.lag.seconds() > self.max_lag:
            return "loop_lag"
        return None

    def wsgi(self, app):
        """``app`` (a WSGI callable) counting each request in ``held`` until its response is
        closed (a stream: after its last event, or when its client left)."""

        def counted(environ, start_response):
            if environ.get("PATH_INFO") in ALWAYS_SERVED:
                return app(environ, start_response)
            with self._lock:
                self.held += 1
            try:
                body = app(environ, start_response)
            except BaseException:
                self._release()
                raise
            return ClosingIterator(body, self._release)

        return counted

    def _release(self) -> None:
        with self._lock:
            self.held -= 1


def init_app(app: Flask) -> None:
    """Count requests around the whole app and judge each before other hooks run (register it
    after the log and metrics hooks, which should see a shed request, and before the rest)."""
    admission = Admission(app.config["PARLOR_MAX_CONCURRENT_REQUESTS"],
                          app.config["PARLOR_MAX_LOOP_LAG_MS"])
    app.extensions[EXTENSION] = admission
    app.wsgi_app = admission.wsgi(app.wsgi_app)
    app.before_request(_admit)


def _admit():
    if request.path in ALWAYS_SERVED:
        return None
    admission: Admission = current_app.extensions[EXTENSION]
    admission.lag.start()  # here, not in create_app: in the worker, after gevent is set up
    reason = admission.refusal()
    if reason is None:
        return None
    metrics.count_shed(reason)
    return shed_response(request.path)


def shed_response(path: str):
    """The 503 for ``path`` in its audience's shape, with ``Retry-After``."""
    if path.startswith(("/v1/", "/api/v1/")):
        shape = errors.REST if path.startswith("/api/v1/") else errors.shape_for_path(path)
        return errors.error_response(shape, errors.ApiError(
            503, MESSAGE, kind="unavailable", retry_after=RETRY_AFTER))
    page = render_template("errors/error.html", status=503, message=MESSAGE)
    return page, 503, {"Retry-After": str(RETRY_AFTER)}
