"""Keep-alive for relayed streams: a ``: ping`` comment while the vendor is silent.

A WSGI server learns that a client left only when a write fails, so a client that hangs up
during a long vendor silence would hold the upstream open until the vendor's next chunk.
One pinger per process looks after every relayed stream and pings those silent for their
interval (``PARLOR_STREAM_PING_SECONDS``); the failed write of a ping ends the response and
closes the upstream.

Under gevent (gunicorn's workers) the response's own greenlet reads the deltas
(:class:`_Inline`): the pinger interrupts its wait in the upstream read, the ping goes out
through the WSGI server's ``write`` callable from there, and the read goes on. Elsewhere
(threads) :class:`Paced` reads them on a thread into a queue the response waits on, and the
pinger puts :data:`PING` in the queue; per chunk that costs a queue put and get and a
hand-over between two threads, which under gevent had delayed each relayed chunk by a turn of
the event loop.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from flask import current_app, request
from gevent import monkey, spawn_raw
from greenlet import getcurrent

from app.process_local import ProcessLocal
from app.vendors.transport import interrupt

PING = object()  # yielded by Paced instead of a delta: send a keep-alive comment
PING_EVENT = ": ping\n\n"
WRITE = "parlor.write"  # the environ key of the WSGI server's write callable


class ClientGone(GeneratorExit):
    """A ping could not be written: the client left. It unwinds the relay from inside the
    upstream read as closing it would (a stream left early is recorded as stopped)."""


def init_app(app) -> None:
    app.wsgi_app = _KeepWrite(app.wsgi_app)


class _KeepWrite:
    """WSGI middleware: keeps the server's ``write`` callable (``start_response``'s return) in
    the environ, for pings sent from inside a response's iteration."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            environ[WRITE] = write = start_response(status, headers, exc_info)
            return write
        return self.wsgi_app(environ, start)


def paced(deltas: Iterator, interval: float | None = None):
    """The deltas with keep-alive pings (see the module's note); iterate once inside a request
    and close when done (that closes the upstream). A ping is :data:`PING` in the iteration
    from threads, or written at once under gevent."""
    write = request.environ.get(WRITE)
    if write is not None and monkey.is_module_patched("threading"):
        return _Inline(deltas, write, interval)
    return Paced(deltas, interval)


def _interval(interval: float | None) -> float:
    return interval or current_app.config["PARLOR_STREAM_PING_SECONDS"]


class _Inline:
    """The deltas read by the response's greenlet; a ping is written from inside its wait in
    the upstream read (the only wait the pinger interrupts)."""

    pending = False  # nothing is read ahead

    def __init__(self, deltas: Iterator, write, interval: float | None):
        self._deltas = deltas
        self._write = write
        self.interval = _interval(interval)
        self.last = time.monotonic()
        self._greenlet = None
        self._relaying = False

    def __iter__(self) -> Iterator:
        self._greenlet, self._relaying = getcurrent(), True
        clock, pinger = time.monotonic, _pinger()
        pinger.watch(self)
        try:
            for delta in self._deltas:
                self.last = clock()
                yield delta
        finally:
            self._relaying = False
            pinger.forget(self)

    def ping(self) -> None:  # from the pinger
        interrupt(self._greenlet, self._send_ping)

    def _send_ping(self) -> None:  # in the response's greenlet, waiting in the upstream read
        if not self._relaying:  # a ping due just as this stream ended; the greenlet moved on
            return
        try:
            self._write(PING_EVENT.encode())
        except OSError:
            raise ClientGone from None

    def close(self) -> None:
        self._deltas.close()


_DELTA, _ERROR, _END, _PING = range(4)


class Paced:
    """The deltas, with :data:`PING` after each ping interval without one; iterate once
    inside an app context, and :meth:`close` when done (that closes the upstream)."""

    def __init__(self, deltas: Iterator, interval: float | None = None):
        self._deltas = deltas
        self._interval = interval
        self._reader: _Reader | None = None

    def __iter__(self) -> Iterator:
        self._reader = reader = _Reader(self._deltas, current_app._get_current_object(),
                                        _interval(self._interval))
        events = reader.events
        pinger = _pinger()
        pinger.watch(reader)
        try:
            while True:
                kind, item = events.get()
                if kind == _DELTA:
                    yield item
                elif kind == _PING:
                    yield PING
                elif kind == _END:
                    return
                else:
                    raise item
        finally:
            pinger.forget(reader)

    @property
    def pending(self) -> bool:
        """Something (a delta, the end or an error) is already waiting to be taken."""
        return self._reader is not None and not self._reader.events.empty()

    def close(self) -> None:
        if self._reader is None:  # never iterated: no reader owns the deltas
            self._deltas.close()
        else:
            self._reader.stop()


class _Reader:
    """Iterates the deltas on its own thread, in its own app context; alone closes them."""

    def __init__(self, deltas: Iterator, app, interval: float):
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.interval = interval
        self.last = time.monotonic()  # when something last went into the queue
        self._deltas = deltas
        self._app = app
        self._stopped = False
        _start(self._run)

    def _run(self) -> None:
        with self._app.app_context():  # the usage ledger is written from here
            put, clock = self.events.put, time.monotonic
            try:
                for delta in self._deltas:
                    if self._stopped:
                        break
                    self.last = clock()
                    put((_DELTA, delta))
            except Exception as exc:  # re-raised on the response's side
                put((_ERROR, exc))
            finally:
                self._deltas.close()  # a stream left early is recorded as stopped
                put((_END, None))

    def stop(self) -> None:
        self._stopped = True

    def ping(self) -> None:  # from the pinger
        self.events.put((_PING, None))


class _Pinger:
    """Pings each watched stream silent for its interval."""

    def __init__(self) -> None:
        self._readers: set[_Reader | _Inline] = set()
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._tick: float | None = None  # the current wait between rounds; None: idle
        threading.Thread(target=self._run, name="parlor-pinger", daemon=True).start()

    def watch(self, reader: _Reader | _Inline) -> None:
        with self._lock:
            self._readers.add(reader)
        if self._tick is None or reader.interval / 4 < self._tick:
            self._woken.set()  # idle, or the round is due sooner for this stream

    def forget(self, reader: _Reader | _Inline) -> None:
        with self._lock:
            self._readers.discard(reader)

    def _run(self) -> None:
        while True:
            with self._lock:
                readers = list(self._readers)
            if not readers:
                self._tick = None
                self._woken.wait()
                self._woken.clear()
                continue
            now = time.monotonic()
            for reader in readers:
                if now - reader.last >= reader.interval:
                    reader.last = now
                    reader.ping()
            # a ping goes out between one and one and a quarter intervals into a silence
            self._tick = min(r.interval for r in readers) / 4
            self._woken.wait(self._tick)
            self._woken.clear()


_pinger = ProcessLocal(_Pinger)  # this process's pinger


def _start(target) -> None:
    """Run ``target`` on its own greenlet under gevent's patching (a ``Thread`` and its start-up
    handshake cost a stream ~30 µs more), else on a daemon thread."""
    if monkey.is_module_patched("threading"):
        spawn_raw(target)
    else:
        threading.Thread(target=target, name="parlor-relay", daemon=True).start()
