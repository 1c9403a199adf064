"""API keys as the API checks them, kept by each process until an access change anywhere.

Reading a key with its owner and role is the one query of an API call, ~0.3 ms of the
gateway's 2 ms. Each process keeps the rows it read, tagged with the *access generation* it
saw just before reading: a shared token that moves on after every committed change to a key,
a user or a role (:func:`_note_changes` watches Parlor's sessions, from :func:`init_app`).
A kept row is used only while the generation is the one it was read under, so a revoked key,
a disabled user or a changed role take effect on the next request in every process.

Relied on: a key's last-use write (``repositories.accounts.touch_key``) is a Core UPDATE that
the ORM never sees, so it does not move the generation (through the ORM, each first call of
a key in a minute would empty every process's cache). ``tests/test_touch_key_contract.py``.

The generation lives in Redis when ``REDIS_URL`` is set (Parlor on several hosts: one GET a
call; while Redis is unreachable nothing is kept and every call reads the database) and
otherwise in a file in the instance folder (the processes of one host: one ``pread`` a call;
the file must not be deleted while Parlor runs). Rows are also dropped after
``ENTRY_SECONDS``, should a change ever fail to move the generation on (Redis down then, or
a row changed by hand in SQL, outside Parlor: that takes effect within ``ENTRY_SECONDS``).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

ENTRY_SECONDS = 30.0
MAX_ENTRIES = 10_000  # distinct keys kept; past that the cache starts over
REDIS_KEY = "parlor:access-generation"
REDIS_TIMEOUT = 0.5
RECHECK_SECONDS = 5.0  # after a Redis failure, calls read the database this long
EXTENSION = "parlor.access_cache"
WATCHED_TABLES = frozenset({"api_keys", "users", "roles"})
TOKEN_BYTES = 16


class FileGeneration:
    """The generation as a random token at the start of a file, rewritten in place on each
    change; every process keeps the file open and reads the token with one ``pread``."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / "access-generation"
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(fd).st_size < TOKEN_BYTES:
                os.pwrite(fd, secrets.token_bytes(TOKEN_BYTES), 0)
            self._fd = fd
            weakref.finalize(self, os.close, fd)
        return self._fd

    def current(self) -> bytes | None:
        try:
            return os.pread(self._open(), TOKEN_BYTES, 0)
        except OSError:
            return None  # unknown: nothing is kept

    def advance(self) -> None:
        # A reader racing this write may see part of the new token: a token never seen
        # before, so it reads the database, as it should.
        try:
            os.pwrite(self._open(), secrets.token_bytes(TOKEN_BYTES), 0)
        except OSError as exc:
            log.warning("could not record an access change (%s); cached API keys expire "
                        "within %.0f s", type(exc).__name__, ENTRY_SECONDS)


class RedisGeneration:
    """The generation as a counter in Redis, shared by every host."""

    def __init__(self, url: str):
        import redis

        self._errors = redis.RedisError
        self._client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                            socket_connect_timeout=REDIS_TIMEOUT)
        self._down_until = 0.0

    def current(self) -> bytes | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            return self._client.get(REDIS_KEY) or b""
        except self._errors as exc:
            self._down_until = time.monotonic() + RECHECK_SECONDS
            log.warning("access generation unreachable in Redis (%s); API keys are read "
                        "from the database for %.0f s", type(exc).__name__, RECHECK_SECONDS)
            return None

    def advance(self) -> None:
        try:
            self._client.incr(REDIS_KEY)
        except self._errors as exc:
            log.warning("could not record an access change in Redis (%s); cached API keys "
                        "expire within %.0f s", type(exc).__name__, ENTRY_SECONDS)


class _Entry(NamedTuple):
    """One kept row, with the generation it was read under and when it expires regardless."""

    generation: bytes
    expires: float  # time.monotonic()
    row: object


class AccessCache:
    """Rows read by :meth:`get`, by key prefix, valid for one generation."""

    def __init__(self, generation: FileGeneration | RedisGeneration):
        self.generation = generation
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, prefix: str, read: Callable[[str], object]) -> object:
        """The row for ``prefix``: kept, or ``read(prefix)`` (None is kept too: an unknown
        prefix asked again and again should not cost a query each time)."""
        seen = self.generation.current()
        if seen is None:
            return read(prefix)
        entry = self._entries.get(prefix)
        if entry is not None and entry.generation == seen and entry.expires > time.monotonic():
            return entry.row
        row = read(prefix)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[prefix] = _Entry(seen, time.monotonic() + ENTRY_SECONDS, row)
        return row

    def update(self, prefix: str, change: Callable[[object], object]) -> None:
        """Replace a kept row with ``change(row)`` (this process's own write, e.g. last use)."""
        with self._lock:
            entry = self._entries.get(prefix)
            if entry is not None and entry.row is not None:
                self._entries[prefix] = entry._replace(row=change(entry.row))

    def changed(self) -> None:
        """Access changed: move the generation on (every process) and drop what is kept."""
        self.generation.advance()
        with self._lock:
            self._entries.clear()


def init_app(app: Flask) -> None:
    """The app's cache and generation; and, once per process, the listeners on Parlor's
    sessions that move the generation on after a committed access change."""
    redis_url = app.config.get("REDIS_URL")
    generation = (RedisGeneration(redis_url) if redis_url
                  else FileGeneration(app.config["INSTANCE_PATH"]))
    app.extensions[EXTENSION] = AccessCache(generation)
    for name, listener in (("after_flush", _note_changes), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def cache() -> AccessCache:
    return current_app.extensions[EXTENSION]


def _note_changes(session: Session, flush_context) -> None:
    """After a flush: remember whether it wrote a key, a user or a role."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in WATCHED_TABLES and (obj not in session.dirty or session.is_modified(obj)):
            session.info["access_changed"] = True
            return


def _after_commit(session: Session) -> None:
    if session.info.pop("access_changed", False) and has_app_context():
        extension = current_app.extensions.get(EXTENSION)
        if extension is not None:
            extension.changed()


def _after_rollback(session: Session) -> None:
    session.info.pop("access_changed", None)

