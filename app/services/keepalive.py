"""Keep-alive for relayed streams: a ``: ping`` comment while the vendor is silent.

A WSGI server learns that a client left only when a write fails, so a client that hangs up
during a long vendor silence would hold the upstream open until the vendor's next chunk.
:class:`Paced` reads the deltas on a thread (a greenlet under gunicorn's gevent worker) into a
queue the response waits on; one pinger thread per process puts :data:`PING` in the queue of
every stream silent for ``PING_SECONDS`` (the response's wait then needs no timer of its own,
which cost a relayed chunk as much as the queue). The failed write of a ping ends the
response, and the reader then closes the upstream (at once if it is between chunks, else as
soon as the vendor's pending read returns). Per chunk this costs one queue put and get.

The reader is also where a stream lets others start first (``admission.starts_first``): once
its first token is out, it waits between two pieces while requests wait at the worker's start
gate, ``PARLOR_STARTS_FIRST_SECONDS`` at most in all. Anything else with a queue to wake
(a reply's follower: services/reply_followers.py) can have the pinger ping it (:class:`Watch`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from flask import current_app
from gevent import monkey, spawn_raw

from app import admission
from app.process_local import ProcessLocal

PING = object()  # yielded by Paced instead of a delta: send a keep-alive comment
PING_EVENT = ": ping\n\n"
PING_SECONDS = 15.0
_DELTA, _ERROR, _END, _PING = range(4)


class Paced:
    """The deltas, with :data:`PING` after each ``PING_SECONDS`` without one; iterate once
    inside an app context, and :meth:`close` when done (that closes the upstream)."""

    def __init__(self, deltas: Iterator, interval: float | None = None):
        self._deltas = deltas
        self._interval = interval
        self._reader: _Reader | None = None

    def __iter__(self) -> Iterator:
        interval = self._interval or PING_SECONDS
        self._reader = reader = _Reader(self._deltas, current_app._get_current_object(),
                                        interval)
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

    def close(self, wait: float = 0.0) -> None:
        """Stop reading (the reader closes the upstream at its next chunk); ``wait``: up to
        that many seconds for it to have done so."""
        if self._reader is None:  # never iterated: no reader owns the deltas
            self._deltas.close()
        else:
            self._reader.stop()
            deadline = time.monotonic() + wait
            while not self._reader.closed and time.monotonic() < deadline:
                time.sleep(0.01)  # a flag, not an Event: /v1 streams never wait


class _Reader:
    """Iterates the deltas on its own thread, in its own app context; alone closes them."""

    ping_item = (_PING, None)  # what the pinger puts in ``events``

    def __init__(self, deltas: Iterator, app, interval: float):
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.interval = interval
        self.last = time.monotonic()  # when something last went into the queue
        self._deltas = deltas
        self._app = app
        self._stopped = False
        self.closed = False  # the deltas are closed
        spawn(self._run)

    def _run(self) -> None:
        with self._app.app_context():  # the usage ledger is written from here
            put, clock = self.events.put, time.monotonic
            gate = admission.starts_first(self._app)
            deferrable = None  # seconds it may still wait for others' starts, once armed
            try:
                for delta in self._deltas:
                    if self._stopped:
                        break
                    self.last = clock()
                    put((_DELTA, delta))
                    if deferrable is None and gate is not None and _shows(delta):
                        deferrable = gate.defer_seconds
                    if deferrable:  # its first piece is out: requests to start go first
                        deferrable = max(0.0, deferrable - gate.wait_for_starts(deferrable))
            except Exception as exc:  # re-raised on the response's side
                put((_ERROR, exc))
            finally:
                self._deltas.close()  # a stream left early is recorded as stopped
                self._deltas = None  # what the stream held is freed with it, not with us
                self.closed = True
                put((_END, None))

    def stop(self) -> None:
        self._stopped = True


def _shows(delta) -> bool:
    """A delta its client shows: the stream's first token once sent."""
    return bool(getattr(delta, "text", "") or getattr(delta, "thinking", "")
                or getattr(delta, "tool_call", None))


class _Pinger:
    """Puts a ping in the queue of each watched stream (a :class:`_Reader`, a :class:`Watch`)
    silent for its interval."""

    def __init__(self) -> None:
        self._readers: set[_Reader] = set()
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._tick: float | None = None  # the current wait between rounds; None: idle
        threading.Thread(target=self._run, name="parlor-pinger", daemon=True).start()

    def watch(self, reader: _Reader) -> None:
        with self._lock:
            self._readers.add(reader)
        if self._tick is None or reader.interval / 4 < self._tick:
            self._woken.set()  # idle, or the round is due sooner for this stream

    def forget(self, reader: _Reader) -> None:
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
                    reader.events.put(reader.ping_item)
            # a ping goes out between one and one and a quarter intervals into a silence
            self._tick = min(r.interval for r in readers) / 4
            del readers, reader  # a stream that ends meanwhile is freed at once, not held here
            self._woken.wait(self._tick)
            self._woken.clear()


_pinger = ProcessLocal(_Pinger)  # this process's pinger


class Watch:
    """Has this process's pinger put :data:`PING` in ``events`` (a queue someone waits on)
    after each ``interval`` without a :meth:`touch`: the waiter needs no timer of its own.
    :meth:`close` when done."""

    ping_item = PING

    def __init__(self, events: queue.SimpleQueue, interval: float = PING_SECONDS):
        self.events = events
        self.interval = interval
        self.last = time.monotonic()
        _pinger().watch(self)

    def touch(self) -> None:
        """Something else came: the silence starts again."""
        self.last = time.monotonic()

    def close(self) -> None:
        _pinger().forget(self)


def spawn(target) -> None:
    """Run ``target`` on its own greenlet under gevent's patching (a ``Thread`` and its start-up
    handshake cost a stream ~30 µs more), else on a daemon thread."""
    if monkey.is_module_patched("threading"):
        spawn_raw(target)
    else:
        threading.Thread(target=target, name="parlor-relay", daemon=True).start()
