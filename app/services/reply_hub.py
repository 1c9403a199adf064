"""Replies being written, and how their followers hear of them.

In the writing process, a :class:`LiveReply` holds the text so far and hands each new piece to
the followers there (a queue each). Followers elsewhere (another worker, another host) read
the saved text, then either the pieces published on Redis (``REDIS_URL``: one channel per
reply, each piece with its offset in the text, so a follower joins without a gap or a
repeat) or the saved text again and again. Followers also say that they are there (a Redis
key, else a file's time in the instance folder, one host): a reply nobody follows any more
is ended by its writer after a grace period, while a reload or a second tab keeps it going.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from pathlib import Path

from flask import Flask, current_app

from app.process_local import ProcessLocal

log = logging.getLogger(__name__)

END = None  # put in a follower's queue when the reply has ended
TEXT, THINKING = "text", "thinking"  # the two things a reply writes, each with its offsets
WATCH_SECONDS = 10.0  # a follower elsewhere is counted this long after it said so
REDIS_TIMEOUT = 2.0
CHANNEL = "parlor:reply:{}"
WATCH_KEY = "parlor:reply:{}:watched"


class LiveReply:
    """One reply being written in this process: its text and thinking so far, and its
    followers here (a queue each, of ``(kind, offset, piece)`` then :data:`END`)."""

    def __init__(self, message_id: str, prefix: str, app: Flask):
        self.message_id = message_id
        self.app = app
        self.cancel: str | None = None  # the status a Stop or a shutdown asked for
        self.stored = None  # the reply as its writer stored it at the end (replies.Stored)
        self._parts: dict[str, list[str]] = {TEXT: [prefix] if prefix else [], THINKING: []}
        self._lengths = {TEXT: len(prefix), THINKING: 0}
        self._listeners: set[queue.SimpleQueue] = set()
        self._lock = threading.Lock()
        self._ended = False
        self._alone_since: float | None = time.monotonic()

    def text(self) -> str:
        with self._lock:
            return "".join(self._parts[TEXT])

    def thinking(self) -> str:
        with self._lock:
            return "".join(self._parts[THINKING])

    def append(self, piece: str, kind: str = TEXT) -> int:
        """Add a piece of the text (or of the thinking); returns its offset in it."""
        with self._lock:
            offset = self._lengths[kind]
            self._parts[kind].append(piece)
            self._lengths[kind] += len(piece)
            for listener in self._listeners:
                listener.put((kind, offset, piece))
        return offset

    def subscribe(self) -> tuple[dict[str, str], queue.SimpleQueue]:
        """The text and thinking so far (by kind) and a queue of the pieces after them."""
        listener: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            self._listeners.add(listener)
            self._alone_since = None
            if self._ended:
                listener.put(END)
            return {kind: "".join(parts) for kind, parts in self._parts.items()}, listener

    def unsubscribe(self, listener: queue.SimpleQueue) -> None:
        with self._lock:
            self._listeners.discard(listener)
            if not self._listeners:
                self._alone_since = time.monotonic()

    def alone_for(self) -> float:
        """Seconds since the last follower in this process left (0 while one is here)."""
        with self._lock:
            return 0.0 if self._alone_since is None else time.monotonic() - self._alone_since

    def end(self) -> None:
        with self._lock:
            self._ended = True
            for listener in self._listeners:
                listener.put(END)


_live: ProcessLocal[dict[str, LiveReply]] = ProcessLocal(dict)


def open_reply(message_id: str, prefix: str = "") -> LiveReply:
    live = LiveReply(message_id, prefix, current_app._get_current_object())
    _live()[message_id] = live
    return live


def live_reply(message_id: str) -> LiveReply | None:
    """The reply if this process is writing it."""
    return _live().get(message_id)


def live_replies() -> list[LiveReply]:
    return list(_live().values())


def close_reply(live: LiveReply) -> None:
    live.end()
    if _live().get(live.message_id) is live:
        del _live()[live.message_id]


def cancel(message_id: str, status: str) -> bool:
    """Ask this process's writer of the reply to end it with ``status``; False if none."""
    live = live_reply(message_id)
    if live is None:
        return False
    live.cancel = status
    return True


class RedisBus:
    """Pieces of replies on Redis pub/sub, and followers' presence as expiring keys."""

    def __init__(self, url: str):
        import redis

        self._errors = redis.RedisError
        self._client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                            socket_connect_timeout=REDIS_TIMEOUT)
        self._url = url
        self._warned = 0.0

    def _warn(self, exc: Exception) -> None:
        if time.monotonic() - self._warned > 30:
            self._warned = time.monotonic()
            log.warning("replies: Redis unreachable (%s); followers elsewhere read the saved "
                        "text", type(exc).__name__)

    def publish(self, message_id: str, offset: int, piece: str, kind: str = TEXT) -> None:
        try:
            self._client.publish(CHANNEL.format(message_id), json.dumps(
                {"k": kind, "o": offset, "t": piece}, ensure_ascii=False))
        except self._errors as exc:
            self._warn(exc)

    def publish_end(self, message_id: str) -> None:
        try:
            self._client.publish(CHANNEL.format(message_id), '{"end": true}')
        except self._errors as exc:
            self._warn(exc)

    def listen(self, message_id: str):
        """A subscription to the reply's pieces (:class:`Subscription`), or None."""
        import redis

        try:
            pubsub = redis.Redis.from_url(self._url, socket_connect_timeout=REDIS_TIMEOUT) \
                .pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CHANNEL.format(message_id))
            return Subscription(pubsub, self._errors)
        except self._errors as exc:
            self._warn(exc)
            return None

    def watch(self, message_id: str) -> None:
        try:
            self._client.set(WATCH_KEY.format(message_id), b"1", ex=int(WATCH_SECONDS))
        except self._errors as exc:
            self._warn(exc)

    def watched(self, message_id: str) -> bool:
        try:
            return bool(self._client.exists(WATCH_KEY.format(message_id)))
        except self._errors as exc:
            self._warn(exc)
            return False


class Subscription:
    """Pieces from Redis: ``(kind, offset, piece)``, :data:`END`, or nothing in the wait."""

    def __init__(self, pubsub, errors):
        self._pubsub = pubsub
        self._errors = errors
        self.broken = False

    def get(self, timeout: float) -> tuple[str, int, str] | None | bool:
        """A piece, :data:`END`, or False (nothing yet, or Redis failed: see ``broken``)."""
        try:
            message = self._pubsub.get_message(timeout=timeout)
        except self._errors:
            self.broken = True
            return False
        if message is None or message.get("type") != "message":
            return False
        data = json.loads(message["data"])
        return END if data.get("end") else (data.get("k", TEXT), int(data["o"]), data["t"])

    def close(self) -> None:
        try:
            self._pubsub.close()
        except self._errors:
            pass


class LocalBus:
    """No Redis (one host): nothing is published; followers' presence is a file's time."""

    def __init__(self, instance_path: str):
        self._dir = Path(instance_path) / "watched-replies"

    def publish(self, message_id: str, offset: int, piece: str, kind: str = TEXT) -> None:
        pass

    def publish_end(self, message_id: str) -> None:
        try:  # its followers' presence no longer matters
            (self._dir / message_id).unlink(missing_ok=True)
        except OSError:
            pass

    def listen(self, message_id: str) -> None:
        return None

    def watch(self, message_id: str) -> None:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            (self._dir / message_id).touch()
        except OSError:
            pass

    def watched(self, message_id: str) -> bool:
        path = self._dir / message_id
        try:
            if time.time() - path.stat().st_mtime < WATCH_SECONDS:
                return True
            path.unlink()
        except OSError:
            pass
        return False


def bus(app: Flask | None = None) -> RedisBus | LocalBus:
    """The app's bus: Redis when ``REDIS_URL`` is set."""
    app = app or current_app._get_current_object()
    made = app.extensions.get("parlor_reply_bus")
    if made is None:
        url = app.config.get("REDIS_URL")
        made = app.extensions["parlor_reply_bus"] = (
            RedisBus(url) if url else LocalBus(app.config["INSTANCE_PATH"]))
    return made
