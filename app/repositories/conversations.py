"""Queries over conversations and their messages."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Conversation, Message


def owned(conversation_id: str, user_id: int) -> Conversation | None:
    """The conversation if ``user_id`` owns it; others' ids look exactly like missing ones."""
    return db.session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.user_id == user_id
        )
    )


def recent(user_id: int, *, limit: int = 50, offset: int = 0) -> list[Conversation]:
    return list(
        db.session.scalars(
            select(Conversation)
            .where(Conversation.user_id == user_id)
            .order_by(Conversation.updated_at.desc(), Conversation.id)
            .limit(limit)
            .offset(offset)
        )
    )


def messages(conversation_id: str) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        )
    )


def next_seq(conversation_id: str) -> int:
    last = db.session.scalar(
        select(func.max(Message.seq)).where(Message.conversation_id == conversation_id)
    )
    return (last or 0) + 1


def add(obj) -> None:
    db.session.add(obj)


def delete(conversation: Conversation) -> None:
    db.session.delete(conversation)
