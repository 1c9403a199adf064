"""Stall timeouts for streamed replies: first token, the gap between chunks, and the total.

A socket read timeout cannot tell these apart (it is fixed when the body starts), so each
stream gets a deadline (the first token's, then ``idle`` after each chunk, never past the
total) that one monitor thread enforces by cutting the socket. How that works with the
transport and the sender: the protocol in ``app/vendors/transport.py``.

Adapters whose SDK opens the stream itself are watched too: on ``httpx2`` (Gemini), the
client's ``response`` event hook (:func:`watch_opened`) arms the watchdog of the stream being
opened under :func:`opening`; on ``urllib3`` (Bedrock's botocore), the adapter hands the
watchdog the response's socket (:func:`socket_of_urllib3`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from app.process_local import ProcessLocal
from app.vendors.errors import VendorError, VendorTimeout


@dataclass(frozen=True)
class StallLimits:
    """Seconds: to the first token, between two chunks, and for the whole call."""

    first_token: float
    idle: float
    total: float

    @classmethod
    def of(cls, credential) -> StallLimits:
        total = credential.timeout
        return cls(first_token=credential.option("first_token_timeout", total),
                   idle=credential.option("idle_timeout", total), total=total)


class StallWatchdog:
    """Watches one streamed response; call :meth:`fed` per chunk and :meth:`close` at the end.

    One monitor thread per process looks after every open stream (a thread per stream cost
    ~3 ms to start, on the path to the first token).
    """

    def __init__(self, response, limits: StallLimits, started: float, *, sock=None):
        self._socket = sock if sock is not None else _socket_of(response)
        self._limits = limits
        self._total_deadline = started + limits.total
        self.deadline = min(started + limits.first_token, self._total_deadline)
        self._phase = "first token"
        self.fired: str | None = None  # the timeout that cut the stream
        if self._socket is not None:
            _monitor().watch(self)
            # The watchdog keeps time from here: the body's reads need no timeout of their own
            # (each costs a timer on the event loop, per chunk): transport.py, protocol step 3.
            request = getattr(response, "request", None)
            timeouts = request.extensions.get("timeout") if request is not None else None
            if isinstance(timeouts, dict):
                timeouts["read"] = None
            elif sock is not None:
                sock.settimeout(None)  # urllib3 sets it again for the connection's next call

    def fed(self) -> None:
        """A chunk arrived: the next may take up to the idle timeout."""
        self._phase = "idle"
        self.deadline = min(time.monotonic() + self._limits.idle, self._total_deadline)

    def close(self) -> None:
        _monitor().forget(self)

    def error(self, vendor: str) -> VendorTimeout:
        return VendorTimeout(f"{vendor} exceeded the {self.fired} timeout", vendor=vendor)

    def expire(self) -> None:
        """The deadline passed: cut the upstream socket so the blocked read fails at once."""
        self.fired = "total" if self.deadline >= self._total_deadline else self._phase
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


class _Monitor:
    """Checks the deadlines of all watched streams every TICK seconds."""

    TICK = 0.05

    def __init__(self) -> None:
        self._watched: set[StallWatchdog] = set()
        self._lock = threading.Lock()
        self.pid = os.getpid()
        threading.Thread(target=self._run, name="parlor-stall-monitor", daemon=True).start()

    def watch(self, watchdog: StallWatchdog) -> None:
        with self._lock:
            self._watched.add(watchdog)

    def forget(self, watchdog: StallWatchdog) -> None:
        with self._lock:
            self._watched.discard(watchdog)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                expired = [w for w in self._watched if w.deadline <= now]
                self._watched.difference_update(expired)
            for watchdog in expired:
                watchdog.expire()


_monitor = ProcessLocal(_Monitor)  # this process's monitor


def _socket_of(response):
    """The response's socket (httpx over httpcore exposes it), or None when unavailable."""
    stream = getattr(response, "extensions", {}).get("network_stream")
    try:
        return stream.get_extra_info("socket") if stream is not None else None
    except Exception:  # another transport: only the socket read timeout applies then
        return None


def socket_of_urllib3(response):
    """The socket of a ``urllib3`` response whose body is still being read, or None."""
    try:
        return response.connection.sock
    except AttributeError:
        return None


class _Guarded:
    watchdog: StallWatchdog | None = None
    limits: StallLimits | None = None
    started: float = 0.0


_opening: ContextVar[_Guarded | None] = ContextVar("parlor_opening_stream", default=None)


@contextmanager
def opening(guarded: _Guarded, limits: StallLimits, started: float):
    """Inside, the next response an ``httpx2`` client with :func:`watch_opened` as its
    ``response`` hook receives (a stream the SDK opens) gets ``guarded``'s watchdog. Leave it
    once the stream is open, before yielding anything."""
    guarded.limits, guarded.started = limits, started
    token = _opening.set(guarded)
    try:
        yield guarded
    finally:
        _opening.reset(token)


def watch_opened(response) -> None:
    """An ``httpx2`` ``response`` event hook: arms the watchdog of the stream being opened."""
    guarded = _opening.get()
    if guarded is not None and guarded.watchdog is None and guarded.limits is not None:
        guarded.watchdog = StallWatchdog(response, guarded.limits, guarded.started)


@contextmanager
def stall_guard(vendor: str):
    """Around a stream: set ``.watchdog`` once the response is open. A stream the watchdog cut
    ends in its ``VendorTimeout`` instead of a broken-stream error; the watchdog is closed."""
    guarded = _Guarded()
    try:
        yield guarded
    except VendorError:
        if guarded.watchdog is not None and guarded.watchdog.fired:
            raise guarded.watchdog.error(vendor) from None
        raise
    finally:
        if guarded.watchdog is not None:
            guarded.watchdog.close()
    if guarded.watchdog is not None and guarded.watchdog.fired:
        raise guarded.watchdog.error(vendor)
