"""Stall timeouts for streamed replies: first token, the gap between chunks, and the total.

A socket read timeout cannot tell these apart (it is fixed when the body starts), so a small
watcher thread per stream keeps a deadline — the first token's, then ``idle`` after each
chunk, never past the total — and shuts the upstream socket down when it passes. The blocked
read then fails at once; the adapter sees :attr:`StallWatchdog.fired` and raises
``VendorTimeout`` instead of a broken-stream error.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from app.vendors.errors import VendorTimeout


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
    """Watches one streamed response; call :meth:`fed` per chunk and :meth:`close` at the end."""

    def __init__(self, response, limits: StallLimits, started: float):
        self._socket = _socket_of(response)
        self._limits = limits
        self._total_deadline = started + limits.total
        self._deadline = min(started + limits.first_token, self._total_deadline)
        self._phase = "first token"
        self._closed = threading.Event()
        self.fired: str | None = None  # the timeout that cut the stream
        if self._socket is not None:
            threading.Thread(target=self._watch, name="parlor-stall-watchdog",
                             daemon=True).start()

    def fed(self) -> None:
        """A chunk arrived: the next may take up to the idle timeout."""
        self._phase = "idle"
        self._deadline = min(time.monotonic() + self._limits.idle, self._total_deadline)

    def close(self) -> None:
        self._closed.set()

    def error(self, vendor: str) -> VendorTimeout:
        return VendorTimeout(f"{vendor} exceeded the {self.fired} timeout", vendor=vendor)

    def _watch(self) -> None:
        while not self._closed.is_set():
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                self.fired = "total" if self._deadline >= self._total_deadline else self._phase
                try:
                    self._socket.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed
                return
            # A chunk may pull the deadline in (idle < first token): look again within ``idle``.
            self._closed.wait(min(remaining, self._limits.idle))


def _socket_of(response):
    """The response's socket (httpx over httpcore exposes it), or None when unavailable."""
    stream = getattr(response, "extensions", {}).get("network_stream")
    try:
        return stream.get_extra_info("socket") if stream is not None else None
    except Exception:  # another transport: only the socket read timeout applies then
        return None
