"""Keep-alive for relayed streams: a ``: ping`` comment while the vendor is silent.

A WSGI server learns that a client left only when a write fails, so a client that hangs up
during a long vendor silence would hold the upstream open until the vendor's next chunk.
:class:`Paced` reads the deltas on a thread (a greenlet under gunicorn's gevent worker) into a
queue; the response waits on it at most ``PING_SECONDS`` and yields :data:`PING` when nothing
came. The failed write of a ping ends the response, and the reader then closes the upstream
(at once if it is between chunks, else as soon as the vendor's pending read returns).
Per chunk this costs one queue put and get.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from flask import current_app

PING = object()  # yielded by Paced instead of a delta: send a keep-alive comment
PING_EVENT = ": ping\n\n"
PING_SECONDS = 15.0
_DELTA, _ERROR, _END = range(3)


class Paced:
    """The deltas, with :data:`PING` after each ``PING_SECONDS`` without one; iterate once
    inside an app context, and :meth:`close` when done (that closes the upstream)."""

    def __init__(self, deltas: Iterator, interval: float | None = None):
        self._deltas = deltas
        self._interval = interval
        self._reader: _Reader | None = None

    def __iter__(self) -> Iterator:
        self._reader = reader = _Reader(self._deltas, current_app._get_current_object())
        events, interval = reader.events, self._interval or PING_SECONDS
        while True:
            try:  # a delta already waiting needs no timer (under load, most of them)
                kind, item = events.get_nowait()
            except queue.Empty:
                try:
                    kind, item = events.get(timeout=interval)
                except queue.Empty:
                    yield PING
                    continue
            if kind == _DELTA:
                yield item
            elif kind == _END:
                return
            else:
                raise item

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

    def __init__(self, deltas: Iterator, app):
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self._deltas = deltas
        self._app = app
        self._stopped = False
        threading.Thread(target=self._run, name="parlor-relay", daemon=True).start()

    def _run(self) -> None:
        with self._app.app_context():  # the usage ledger is written from here
            put = self.events.put
            try:
                for delta in self._deltas:
                    if self._stopped:
                        break
                    put((_DELTA, delta))
            except Exception as exc:  # re-raised on the response's side
                put((_ERROR, exc))
            finally:
                self._deltas.close()  # a stream left early is recorded as stopped
                put((_END, None))

    def stop(self) -> None:
        self._stopped = True
