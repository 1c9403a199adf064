"""Usage rows of API calls, written in batches off the request path.

A call hands its ledger row to its process's writer and answers at once; a background
thread writes what has gathered every ``PARLOR_USAGE_FLUSH_MS`` in one transaction (the
ledger rows and their daily rollup), so no client waits for the ledger and a busy worker
commits once a batch instead of once a call. Rows that cannot be written (the database is
down) stay queued for the next batch, up to ``MAX_QUEUED``; what is left at exit is written
then. With an interval of 0 each row is written as it comes, before the answer.

Budgets read the ledger, so they see a call at most one interval late.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque

from flask import Flask, current_app

from app.extensions import db
from app.repositories import usage as repo

log = logging.getLogger(__name__)
MAX_QUEUED = 100_000  # rows kept while the database is away; older ones are dropped first
EXTENSION = "parlor.usage_writer"
_writers: weakref.WeakSet[UsageWriter] = weakref.WeakSet()


class UsageWriter:
    """One process's queue of ledger rows and the thread that writes them."""

    def __init__(self, app: Flask, interval_ms: int):
        self._app = app
        self._interval = interval_ms / 1000
        self._rows: deque[dict] = deque(maxlen=MAX_QUEUED)
        self._lock = threading.Lock()  # one batch in flight at a time
        self._thread_pid: int | None = None  # the thread is started after fork, per process

    @property
    def pending(self) -> int:
        return len(self._rows)

    def submit(self, row: dict) -> None:
        """Queue one ``usage_records`` row (a dict of its columns)."""
        if len(self._rows) == MAX_QUEUED:
            log.error("usage writer: %d rows queued; dropping the oldest", MAX_QUEUED)
        self._rows.append(row)
        if self._interval <= 0:
            self.flush()
        elif self._thread_pid != os.getpid():
            self._start()

    def flush(self) -> int:
        """Write every queued row now; the number written (0 when the write failed)."""
        with self._lock:
            batch = [self._rows.popleft() for _ in range(len(self._rows))]
            if not batch:
                return 0
            try:
                with self._app.app_context(), db.engine.begin() as connection:
                    repo.write_batch(connection, batch)
            except Exception as exc:  # kept for the next batch; the answer went out already
                self._rows.extendleft(reversed(batch))
                log.warning("usage writer: %d rows not written yet (%s)", len(batch),
                            type(exc).__name__)
                return 0
            return len(batch)

    def _start(self) -> None:
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()
        threading.Thread(target=self._run, name="parlor-usage-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            try:
                self.flush()
            except Exception:  # never let the writer die
                log.exception("usage writer: flush failed")


def init_app(app: Flask) -> None:
    writer = UsageWriter(app, app.config["PARLOR_USAGE_FLUSH_MS"])
    app.extensions[EXTENSION] = writer
    _writers.add(writer)


def writer() -> UsageWriter:
    return current_app.extensions[EXTENSION]


@atexit.register
def _flush_all() -> None:
    """What is still queued when the process ends (a worker stopping) is written then."""
    for each in list(_writers):
        each.flush()
