"""Load shedding: a worker refuses new requests with a fast 503 while it is full or late.

Each worker process admits a request only while

- it holds fewer than ``PARLOR_MAX_CONCURRENT_REQUESTS`` requests (streams count, from
  arrival to their last event: a stream waiting on its vendor costs a connection slot and a
  greenlet, little else; gunicorn's ``worker_connections`` leaves room above the limit, so a
  request past it is answered, not left in the listen backlog), and
- its event loop is not running more than ``PARLOR_MAX_LOOP_LAG_MS`` late (under gevent: the
  time since the loop last polled its sockets, which is how late a timer due now would fire;
  a loop that late has more work than CPU, and every stream it holds is waiting on it).

Past either, the request gets 503 with ``Retry-After`` in its caller's shape (OpenAI or
Anthropic error JSON on ``/v1``, the REST error on ``/api/v1``, an HTML page for the browser)
before anything else runs: no database, no authentication, no body read. Health and metrics
routes, and static files, are always served. Each refusal counts in ``parlor_shed_total`` by reason.

An admitted request then waits its turn at the worker's *start gate* (:class:`StartGate`):
at most ``PARLOR_START_CONCURRENCY`` requests start at once, in arrival order, so a burst is
served first come, first served instead of all at once (see there); and while requests wait
there, streams already under way hold their next pieces a while (:func:`starts_first`).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app, has_request_context, render_template, request
from werkzeug.wsgi import ClosingIterator

from app import metrics
from app.api import errors

EXTENSION = "parlor.admission"
GATE_TURN = "parlor.start_turn"  # the environ key of the function that ends a request's turn
TURN_KEPT = "parlor.start_turn_kept"  # set: the turn goes on into the body (keep_turn)
ALWAYS_SERVED = frozenset({"/healthz", "/readyz", "/metrics"})
# Static files too: cheap, and a page whose stylesheet or script was shed is broken, not told
# to wait.
STATIC_PREFIX = "/static/"
RETRY_AFTER = 1  # seconds: a worker that is full now usually has room within a second
TICK = 0.1  # seconds between two wakes of the loop-lag probe
MESSAGE = "Parlor is at capacity right now; try again in a moment."
# An htmx request's refusal, shown inline on the page (static/js/chat.js puts it above the
# message box): the send can be tried again as it stands.
INLINE_MESSAGE = f"Parlor is busy right now; try again in {RETRY_AFTER} s."


class LoopLag:
    """How late this process's gevent loop runs.

    A loop that has not been back to polling for its sockets for N seconds has been busy
    running greenlets back to back: any timer due now fires N seconds late, and a request
    admitted now waits behind that work too. The loop's check watcher notes each return from
    polling; the lag now is the time since. A probe greenlet that wakes every ``TICK`` seconds
    reports how late it woke (``parlor_event_loop_lag_seconds``). A past stall (a slow start, a
    stopped process) leaves nothing behind: only a loop busy now sheds."""

    def __init__(self) -> None:
        self._polled_at: float | None = None
        self._watcher = None

    def start(self) -> None:
        """Start watching, once, in a gevent-patched process (a gunicorn worker); elsewhere
        (tests, the development server, the CLI) the lag stays 0."""
        if self._watcher is not None or not _gevent_patched():
            return
        import gevent

        self._polled_at = time.monotonic()
        self._watcher = gevent.get_hub().loop.check(ref=False)
        self._watcher.start(self._polled)
        gevent.spawn(self._probe)

    def _polled(self) -> None:
        self._polled_at = time.monotonic()

    def _probe(self) -> None:
        import gevent

        while True:
            due = time.monotonic() + TICK
            gevent.sleep(TICK)
            metrics.observe_loop_lag(max(0.0, time.monotonic() - due))

    def seconds(self) -> float:
        """How long the loop has been busy since it last polled (0 outside gevent)."""
        if self._polled_at is None:
            return 0.0
        return time.monotonic() - self._polled_at


class StartGate:
    """How many requests a worker starts at once: a burst is served in arrival order.

    A request's start (its body, authentication, the database, the vendor request built) is
    CPU work. A gevent worker handed a thousand at once interleaves them all, so each waits
    for nearly all the others before its vendor is called: the median first token of the
    burst comes almost as late as the last. With at most ``size`` starts at a time, first
    come first served, the first requests reach their vendors while the later ones wait
    their turn: the same work, the median sooner (BENCHMARKS.md).

    A turn ends when the request calls its vendor (:func:`vendor_called`: the vendor's own
    latency holds no turn) or its view returns, whichever comes first; a chat stream keeps
    it (:func:`keep_turn`) until its reply's writer calls the vendor. A body up to
    ``READ_FIRST`` bytes is read before the request queues (a slow client holds no turn); a
    larger or chunked one is not gated. And a gate that has let nobody through for
    ``STUCK_SECONDS`` (slow turns: an identity provider, an admin's test of a vendor) lets
    its waiters pass: it orders a busy worker, it never stalls one."""

    STUCK_SECONDS = 0.5
    READ_FIRST = 1024 * 1024

    def __init__(self, size: int, defer_seconds: float = 0.0) -> None:
        self.size = size  # 0: no gate
        self.defer_seconds = defer_seconds  # how long a stream may wait for others' starts
        self._slots = None  # made on first use: in the worker, after gevent is set up
        self._clear = None  # set while nobody waits for a turn
        self._waiting = 0
        self._count = threading.Lock()  # a gevent lock in a worker
        self._moved = time.monotonic()

    def enter(self, environ: dict) -> Callable[[], None]:
        """Wait for this request's turn; the function that ends it (once; again: nothing)."""
        if not self.size or not _read_first(environ):
            return _nothing
        slots = self._semaphore()
        with self._count:
            self._waiting += 1
            self._clear.clear()
        try:
            while not slots.acquire(timeout=self.STUCK_SECONDS):
                if time.monotonic() - self._moved >= self.STUCK_SECONDS:
                    return _nothing  # nobody got through for a while: do not wait on them
        finally:
            with self._count:
                self._waiting -= 1
                if not self._waiting:
                    self._clear.set()
        ended = False

        def leave() -> None:
            nonlocal ended
            if not ended:
                ended = True
                self._moved = time.monotonic()
                slots.release()

        return leave

    def wait_for_starts(self, most: float) -> float:
        """Wait while requests wait for their start, ``most`` seconds at most; how long it
        waited. A stream already under way calls it between two pieces (see
        :func:`starts_first`)."""
        if not self._waiting:
            return 0.0
        began = time.monotonic()
        self._clear.wait(most)
        return time.monotonic() - began

    def _semaphore(self):
        if self._slots is None:
            if _gevent_patched():
                from gevent.event import Event
                from gevent.lock import Semaphore  # first come, first served
                self._slots, self._clear = Semaphore(self.size), Event()
            else:
                self._slots, self._clear = threading.Semaphore(self.size), threading.Event()
            self._clear.set()
        return self._slots


def _nothing() -> None:
    return None


def starts_first(app: Flask) -> StartGate | None:
    """The gate a stream under way lets go first, between two pieces: it waits while
    requests wait for their start (:meth:`StartGate.wait_for_starts`), ``defer_seconds``
    (``PARLOR_STARTS_FIRST_SECONDS``) at most in all; None when nothing is to wait for (no
    gate, or 0).

    A worker handed a burst does two kinds of work: starting requests (CPU until each calls
    its vendor) and relaying the streams already started. Done side by side, every start
    waits behind the relays of all the streams before it, and the burst's median first token
    comes late. Starts first, a stream that has sent its first piece holds its next ones
    (they wait in the socket) while others wait for their start, a bounded time: under a
    burst its text pauses, then catches up; a worker with no queue never pauses."""
    admission = app.extensions.get(EXTENSION)
    gate = admission.gate if admission is not None else None
    if gate is None or not gate.size or gate.defer_seconds <= 0:
        return None
    return gate


def _read_first(environ: dict) -> bool:
    """Read a small body now (into memory, for the app to read as usual); False for a body
    not read (chunked, or larger than ``READ_FIRST``)."""
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        return False
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # refused later, as the app refuses it
    if length <= 0:
        return True
    if length > StartGate.READ_FIRST:
        return False
    environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
    return True


def vendor_called() -> None:
    """The current request is about to wait on its vendor: its turn at the start gate ends."""
    if has_request_context():
        request.environ.get(GATE_TURN, _nothing)()


def keep_turn() -> Callable[[], None]:
    """The current request's turn goes on after its view returns, into its streamed body (a
    chat reply's writer, which calls the vendor, starts there): the function that ends it,
    for whatever calls the vendor. The response's close ends it at the latest."""
    if not has_request_context():
        return _nothing
    request.environ[TURN_KEPT] = True
    return request.environ.get(GATE_TURN, _nothing)


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("time")


class Admission:
    """One worker's count of the requests it holds, its loop lag and its limits."""

    def __init__(self, max_requests: int, max_lag_ms: float, starts: int = 0,
                 defer_seconds: float = 0.0) -> None:
        self.max_requests = max_requests  # 0: no limit
        self.max_lag = max_lag_ms / 1000  # seconds; 0: no limit
        self.held = 0
        self.lag = LoopLag()
        self.gate = StartGate(starts, defer_seconds)
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
        closed (a stream: after its last event, or when its client left), each started in
        its turn at the start gate (a request to be shed does not queue)."""

        def counted(environ, start_response):
            if _always_served(environ.get("PATH_INFO", "")):
                return app(environ, start_response)
            with self._lock:
                self.held += 1
            try:
                leave = self.gate.enter(environ) if self.refusal() is None else _nothing
                environ[GATE_TURN] = leave
                try:
                    body = app(environ, start_response)
                except BaseException:
                    leave()
                    raise
                if not environ.get(TURN_KEPT):
                    leave()
            except BaseException:
                self._release()
                raise
            return ClosingIterator(body, [leave, self._release])

        return counted

    def _release(self) -> None:
        with self._lock:
            self.held -= 1


def init_app(app: Flask) -> None:
    """Count requests around the whole app and judge each before other hooks run (register it
    after the log and metrics hooks, which should see a shed request, and before the rest)."""
    admission = Admission(app.config["PARLOR_MAX_CONCURRENT_REQUESTS"],
                          app.config["PARLOR_MAX_LOOP_LAG_MS"],
                          app.config["PARLOR_START_CONCURRENCY"],
                          app.config["PARLOR_STARTS_FIRST_SECONDS"])
    app.extensions[EXTENSION] = admission
    app.wsgi_app = admission.wsgi(app.wsgi_app)
    app.before_request(_admit)


def _admit():
    if _always_served(request.path):
        return None
    admission: Admission = current_app.extensions[EXTENSION]
    admission.lag.start()  # here, not in create_app: in the worker, after gevent is set up
    reason = admission.refusal()
    if reason is None:
        return None
    metrics.count_shed(reason)
    return shed_response(request.path, htmx=bool(request.headers.get("HX-Request")))


def _always_served(path: str) -> bool:
    return path in ALWAYS_SERVED or path.startswith(STATIC_PREFIX)


def shed_response(path: str, *, htmx: bool = False):
    """The 503 for ``path`` in its audience's shape, with ``Retry-After``: API error JSON, an
    inline message for an htmx request from a page, else an error page."""
    if path.startswith(("/v1/", "/api/v1/")):
        shape = errors.REST if path.startswith("/api/v1/") else errors.shape_for_path(path)
        return errors.error_response(shape, errors.ApiError(
            503, MESSAGE, kind="unavailable", retry_after=RETRY_AFTER))
    if htmx:
        fragment = render_template("chat/_error.html", message=INLINE_MESSAGE)
        return fragment, 503, {"Retry-After": str(RETRY_AFTER)}
    page = render_template("errors/error.html", status=503, message=MESSAGE)
    return page, 503, {"Retry-After": str(RETRY_AFTER)}
