"""Following a reply as it is written, from wherever it is written: the events each stream
request sends (services/chat_stream.py starts the writer).

A reply writes two things, its text and its thinking (the model's reasoning, first), each
with its own offsets: a ``delta`` event's id is the text's length after it, a ``thinking``
event's is ``t`` and the thinking's length. A follower starts from a :data:`Position` (what its
page already shows, or a ``Last-Event-ID``) and sends each thing once, in order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from app.extensions import db
from app.models import Message, MessageStatus
from app.repositories import replies as replies_repo
from app.services import keepalive, reply_hub, reply_leases
from app.services.reply_hub import TEXT, THINKING

PING_SECONDS = 15.0
FOLLOW_POLL_SECONDS = 0.5  # a follower elsewhere without Redis reads the saved text this often
RESYNC_SECONDS = 2.0  # ... and with Redis, reads it this often anyway (a lost message, a lease)
EVENTS = {TEXT: "delta", THINKING: "thinking"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_EVENT_ID = re.compile(r"(t?)(\d{1,12})")

Position = dict  # kind (TEXT, THINKING) -> offset already shown


def sse(event: str, data: str, event_id: str | None = None) -> str:
    """One Server-Sent Event; every line of ``data`` gets its own ``data:`` field."""
    lines = "".join(f"data: {line}\n" for line in _LINE_BREAK.split(data))
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\n{lines}\n"


def position(last_event_id: str | None = None, text: int = 0,
             thinking: int = 0) -> Position | None:
    """Where a follower starts: after the event ``last_event_id`` names (``N``: the text up to
    N, the thinking all sent before it; ``tN``: the thinking up to N), else at these offsets.
    None for a ``last_event_id`` that is no event id of ours."""
    if last_event_id:
        found = _EVENT_ID.fullmatch(last_event_id.strip())
        if found is None:
            return None
        offset = int(found.group(2))
        return {THINKING: offset, TEXT: 0} if found.group(1) else \
            {THINKING: 1 << 62, TEXT: offset}
    return {TEXT: max(0, text), THINKING: max(0, thinking)}


def follow(message_id: str, render: Callable[[Message], str],
           encode: Callable[[str], str], start: Position, timeout: float,
           live: reply_hub.LiveReply | None = None) -> Iterator[str]:
    """``thinking`` and ``delta`` events of the reply from ``start`` as it is written (here or
    elsewhere), then ``done`` with ``render`` of the stored reply."""
    live = live or reply_hub.live_reply(message_id)
    sent = dict(start)

    def event(kind: str, piece: str, end: int) -> str:
        sent[kind] = end
        return sse(EVENTS[kind], encode(piece), f"t{end}" if kind == THINKING else str(end))

    if live is not None:
        yield from _here(live, sent, event)
    else:
        yield from _elsewhere(message_id, sent, event, timeout)
    stored = live.stored if live is not None else None  # as its writer here stored it
    if stored is None:
        db.session.commit()  # a fresh snapshot of the stored reply
        stored = db.session.get(Message, message_id, populate_existing=True)
    yield sse("done", render(stored))


def _newer(sent: Position, kind: str, start: int, piece: str, event) -> Iterator[str]:
    """The part of ``piece`` (at ``start``) not sent yet, as an event."""
    end = start + len(piece)
    if end > sent[kind] and start <= sent[kind]:
        yield event(kind, piece[sent[kind] - start:], end)


def _here(live: reply_hub.LiveReply, sent: Position, event) -> Iterator[str]:
    """This process writes the reply: its pieces straight from the writer (and a ping from
    the process's pinger after each ``PING_SECONDS`` without one)."""
    so_far, pieces = live.subscribe()
    watch = keepalive.Watch(pieces, PING_SECONDS)
    try:
        for kind in (THINKING, TEXT):
            yield from _newer(sent, kind, 0, so_far[kind], event)
        while True:
            piece = pieces.get()
            if piece is keepalive.PING:
                yield keepalive.PING_EVENT
                continue
            if piece is reply_hub.END:
                return
            watch.touch()
            yield from _newer(sent, *piece, event)
    finally:
        watch.close()
        live.unsubscribe(pieces)


def _elsewhere(message_id: str, sent: Position, event, timeout: float) -> Iterator[str]:
    """Another process writes the reply: its pieces from Redis when there is one, checked
    against (and filled in from) the saved text; else the saved text, read again and again.
    A piece beyond what was sent waits until the saved text has caught up to it."""
    bus = reply_hub.bus()
    subscription = bus.listen(message_id)  # before the first read: nothing falls in between
    waiting: list[tuple[str, int, str]] = []
    deadline = time.monotonic() + timeout
    first, last_read, last_watch, last_sent = True, 0.0, 0.0, time.monotonic()
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now - last_watch >= reply_hub.WATCH_SECONDS / 3:
                bus.watch(message_id)  # someone follows: its writer goes on
                last_watch = now
            listening = subscription is not None and not subscription.broken
            if not listening or waiting or now - last_read >= RESYNC_SECONDS:
                last_read = now
                found = _read(message_id)
                if found is None or (first and not _still_written(found)):
                    return  # ended before: ``done`` carries the whole reply
                for kind, saved in ((THINKING, found.thinking), (TEXT, found.content)):
                    for out in _newer(sent, kind, 0, saved, event):
                        last_sent = now
                        yield out
                if not _still_written(found):
                    return
                first = False
            if listening:
                piece = subscription.get(timeout=FOLLOW_POLL_SECONDS)
                if piece is reply_hub.END:  # the rest, as stored
                    found = _read(message_id)
                    if found is not None:
                        yield from _newer(sent, THINKING, 0, found.thinking, event)
                        yield from _newer(sent, TEXT, 0, found.content, event)
                    return
                if piece:
                    waiting.append(piece)
            else:
                time.sleep(FOLLOW_POLL_SECONDS)
            while ready := [p for p in waiting if p[1] <= sent[p[0]]]:
                piece = min(ready, key=lambda p: p[1])
                waiting.remove(piece)
                for out in _newer(sent, *piece, event):
                    last_sent = time.monotonic()
                    yield out
            if time.monotonic() - last_sent >= PING_SECONDS:
                last_sent = time.monotonic()
                yield ": ping\n\n"
    finally:
        if subscription is not None:
            subscription.close()


def _read(message_id: str) -> replies_repo.Progress | None:
    found = replies_repo.progress(message_id)
    db.session.commit()
    if found is not None and found.lease_expires_at is not None \
            and found.lease_expires_at < datetime.now(UTC):
        reply_leases.release_lapsed()  # its writer is gone: interrupted, text kept
        found = replies_repo.progress(message_id)
        db.session.commit()
    return found


def _still_written(found: replies_repo.Progress) -> bool:
    """A writer is (or will be) at work: pending, streaming, or stopped but not yet stored."""
    return found.status in (MessageStatus.PENDING, MessageStatus.STREAMING) or (
        found.status == MessageStatus.STOPPED and found.lease_expires_at is not None)
