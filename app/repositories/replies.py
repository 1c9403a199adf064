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
# The writer's end of a reply: its session holds no ORM objects of the reply, so the UPDATE
# need not look for them (the ORM's default evaluates the WHERE clause against each it holds).
UNSYNCED = {"synchronize_session": False}


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


def save_texts(saves: list[tuple[str, datetime, str, str]]) -> None:
    """Save each ``(reply id, lease until, text, thinking)`` of replies still streaming, and
    renew their leases: one ``executemany``."""
    if saves:
        db.session.execute(_save_text(), [
            {"reply": reply, "lease": lease, "content": content, "thinking": thinking or ""}
            for reply, lease, content, thinking in saves])


def renew_leases(leases: list[tuple[str, datetime]]) -> None:
    """Renew the lease of each ``(reply id, lease until)`` still streaming."""
    if leases:
        db.session.execute(_renew_lease(), [{"reply": reply, "lease": lease}
                                            for reply, lease in leases])


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


def finish(message_id: str, conversation_id: str, now: datetime, **values) -> bool:
    """Store how a reply ended (``values``: status, content, error, tokens, latency); a stop
    asked meanwhile wins over ``status``. Nothing when the reply is gone or was already
    declared interrupted (its conversation has moved on)."""
    status = values.pop("status")
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status.in_(LIVE))
        .values(status=case((Message.status == MessageStatus.STOPPED, MessageStatus.STOPPED),
                            else_=status),
                lease_expires_at=None, **values)
        .execution_options(**UNSYNCED))
    if result.rowcount != 1:
        return False
    db.session.execute(update(Conversation).where(Conversation.id == conversation_id)
                       .values(updated_at=now).execution_options(**UNSYNCED))
    return True


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
