"""Queries of replies being written: claiming one, saving its text as it grows under a lease,
storing how it ended, and finding the ones whose writer is gone."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, case, select, update

from app.extensions import db
from app.models import Conversation, Message, MessageStatus

LIVE = (MessageStatus.STREAMING, MessageStatus.STOPPED)  # a writer may still be at work


class Progress(NamedTuple):
    """What a follower reads of a reply: its status, text and thinking so far, and lease."""

    status: str
    content: str
    lease_expires_at: datetime | None
    thinking: str = ""


def claim(message_id: str, lease_until: datetime) -> bool:
    """Mark a pending reply as streaming under a lease; False if another request got there
    first (or it was stopped before it started)."""
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.PENDING)
        .values(status=MessageStatus.STREAMING, lease_expires_at=lease_until))
    return result.rowcount == 1


@lru_cache(maxsize=1)
def _save_text():
    """Built once (as every save's statement is the same): the text, thinking and lease of
    a reply still streaming."""
    messages = Message.__table__
    return (update(messages)
            .where(messages.c.id == bindparam("reply"),
                   messages.c.status == MessageStatus.STREAMING)
            .values(content=bindparam("content"), thinking=bindparam("thinking"),
                    lease_expires_at=bindparam("lease")))


@lru_cache(maxsize=1)
def _renew_lease():
    messages = Message.__table__
    return (update(messages)
            .where(messages.c.id == bindparam("reply"),
                   messages.c.status == MessageStatus.STREAMING)
            .values(lease_expires_at=bindparam("lease")))


def save_texts(saves: list[tuple[str, datetime, str, str]]) -> int:
    """Save each ``(reply id, lease until, text, thinking)`` of replies still streaming, and
    renew their leases: one ``executemany``. How many replies it saved."""
    if not saves:
        return 0
    return db.session.connection().execute(_save_text(), [
        {"reply": reply, "lease": lease, "content": content, "thinking": thinking or ""}
        for reply, lease, content, thinking in saves]).rowcount


def renew_leases(leases: list[tuple[str, datetime]]) -> int:
    """Renew the lease of each ``(reply id, lease until)`` still streaming; how many it
    renewed."""
    if not leases:
        return 0
    return db.session.connection().execute(
        _renew_lease(), [{"reply": reply, "lease": lease} for reply, lease in leases]).rowcount


def counts_each_row() -> bool:
    """The database driver's rowcount of an ``executemany`` is the sum over its rows."""
    return db.session.get_bind().dialect.supports_sane_multi_rowcount


def statuses(message_ids: list[str]) -> dict[str, str]:
    """The status of each of these replies that still exists, by id."""
    if not message_ids:
        return {}
    return dict(db.session.execute(
        select(Message.id, Message.status).where(Message.id.in_(message_ids))).all())


def progress(message_id: str) -> Progress | None:
    row = db.session.execute(
        select(Message.status, Message.content, Message.lease_expires_at, Message.thinking)
        .where(Message.id == message_id)).first()
    return Progress(*row) if row is not None else None


class Stored:
    """A reply as :func:`finish` stored it: its columns as attributes, read off the UPDATE
    itself (a reply carries no attachments: those are a user message's)."""

    attachments = ()

    def __init__(self, row) -> None:
        self.__dict__.update(row)


@lru_cache(maxsize=1)
def _finish():
    """Built once: a live reply's end (a stop asked meanwhile wins over the status given),
    returning the row as stored."""
    messages = Message.__table__
    return (update(messages)
            .where(messages.c.id == bindparam("reply"), messages.c.status.in_(LIVE))
            .values(status=case((messages.c.status == MessageStatus.STOPPED,
                                 MessageStatus.STOPPED), else_=bindparam("end_status")),
                    lease_expires_at=None, content=bindparam("content"),
                    thinking=bindparam("thinking"), error=bindparam("error"),
                    input_tokens=bindparam("input_tokens"),
                    output_tokens=bindparam("output_tokens"),
                    latency_ms=bindparam("latency_ms"))
            .returning(*messages.c))


@lru_cache(maxsize=1)
def _touch_conversation():
    conversations = Conversation.__table__
    return (update(conversations).where(conversations.c.id == bindparam("conversation"))
            .values(updated_at=bindparam("now")))


def finish(message_id: str, conversation_id: str, now: datetime, *, status: str, content: str,
           thinking: str, error: str | None, input_tokens: int, output_tokens: int,
           latency_ms: int) -> Stored | None:
    """Store how a reply ended; a stop asked meanwhile wins over ``status``. The reply as
    stored, or None when it is gone or was already declared interrupted (its conversation
    has moved on). Core statements on the session's connection: the writer's session holds
    no ORM object of the reply to keep in step."""
    connection = db.session.connection()
    row = connection.execute(_finish(), {
        "reply": message_id, "end_status": status, "content": content, "thinking": thinking,
        "error": error, "input_tokens": input_tokens, "output_tokens": output_tokens,
        "latency_ms": latency_ms}).mappings().first()
    if row is None:
        return None
    connection.execute(_touch_conversation(), {"conversation": conversation_id, "now": now})
    return Stored(row)


def reopen(message_id: str) -> bool:
    """A reply cut short with some text (interrupted, or incomplete: its vendor failed or
    nobody followed it) becomes pending again, its text kept (to be continued)."""
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.content != "",
               Message.status.in_((MessageStatus.INTERRUPTED, MessageStatus.INCOMPLETE)))
        .values(status=MessageStatus.PENDING, error=None))
    return result.rowcount == 1


def interrupt(message_id: str, content: str, thinking: str = "") -> bool:
    """Declare a streaming reply interrupted with ``content`` and ``thinking`` (its writer is
    shutting down)."""
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status.in_(LIVE))
        .values(status=case((Message.status == MessageStatus.STOPPED, MessageStatus.STOPPED),
                            else_=MessageStatus.INTERRUPTED),
                content=content, thinking=thinking, lease_expires_at=None))
    return result.rowcount == 1


def interrupt_lapsed(now: datetime) -> int:
    """Every reply whose lease has lapsed: a streaming one becomes interrupted (its text as
    last saved), a stopped one keeps its status; either way its lease is cleared. The lease
    index makes this a range scan of the lapsed rows only."""
    result = db.session.execute(
        update(Message)
        .where(Message.lease_expires_at < now)
        .values(status=case((Message.status == MessageStatus.STREAMING,
                             MessageStatus.INTERRUPTED), else_=Message.status),
                lease_expires_at=None)
        .execution_options(synchronize_session=False))
    return result.rowcount


def abandon_pending(message_ids: list[str], created_before: datetime) -> int:
    """Of these replies, the ones still pending (no writer ever claimed them: the page that
    would have streamed them was closed at once) since before ``created_before`` become
    interrupted."""
    result = db.session.execute(
        update(Message)
        .where(Message.id.in_(message_ids), Message.status == MessageStatus.PENDING,
               Message.lease_expires_at.is_(None), Message.created_at < created_before)
        .values(status=MessageStatus.INTERRUPTED)
        .execution_options(synchronize_session=False))
    return result.rowcount
