"""Queries over attachments and the links between them and messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import delete, func, insert, literal_column, select
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import Conversation, Message
from app.models.attachments import Attachment, message_attachments

links = message_attachments.c


def owned(attachment_id: str, user_id: int) -> Attachment | None:
    """The attachment if ``user_id`` owns it; another user's id reads like a missing one."""
    return db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.user_id == user_id))


def owned_many(attachment_ids: list[str], user_id: int) -> list[Attachment]:
    """The user's attachments among ``attachment_ids`` (others' and unknown ids left out)."""
    if not attachment_ids:
        return []
    return list(db.session.scalars(select(Attachment).where(
        Attachment.id.in_(attachment_ids), Attachment.user_id == user_id)))


def by_sha256(user_id: int, sha256: str) -> Attachment | None:
    return db.session.scalar(select(Attachment).where(
        Attachment.user_id == user_id, Attachment.sha256 == sha256))


def with_data(attachment_id: str) -> bytes | None:
    """The stored bytes of an attachment kept in the database."""
    return db.session.scalar(select(Attachment.data).where(Attachment.id == attachment_id))


def data_pieces(attachment_id: str, size: int, piece: int) -> Iterator[bytes]:
    """An attachment's stored bytes (``size`` of them), ``piece`` at a time, never as one
    whole row value: SQLite's incremental blob reads (a query reads the whole value into
    memory, even for ``substr``), elsewhere ``substr`` (PostgreSQL sends a bytea as hex text,
    which the driver holds twice before decoding it)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rowid = db.session.scalar(select(literal_column("rowid")).select_from(Attachment)
                                  .where(Attachment.id == attachment_id,
                                         Attachment.data.is_not(None)))
        if rowid is None:
            return
        sqlite = connection.connection.driver_connection
        with sqlite.blobopen(Attachment.__tablename__, "data", rowid, readonly=True) as blob:
            while chunk := blob.read(piece):
                yield chunk
        return
    for start in range(0, size, piece):
        chunk = db.session.scalar(select(func.substr(Attachment.data, start + 1, piece))
                                  .where(Attachment.id == attachment_id))
        if not chunk:
            return
        yield chunk


def text_of(attachment_id: str) -> str | None:
    return db.session.scalar(select(Attachment.text).where(Attachment.id == attachment_id))


def bytes_used(user_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Attachment.size), 0))
                             .where(Attachment.user_id == user_id)) or 0


def unsent_before(user_id: int, cutoff: datetime) -> list[Attachment]:
    """The user's uploads no message carries, made before ``cutoff``."""
    return list(db.session.scalars(select(Attachment).where(
        Attachment.user_id == user_id, Attachment.created_at < cutoff,
        Attachment.id.not_in(select(links.attachment_id)))))


def add(attachment: Attachment) -> None:
    db.session.add(attachment)


def link(message_id: str, attachment_ids: list[str]) -> None:
    if attachment_ids:
        db.session.execute(insert(message_attachments), [
            {"message_id": message_id, "attachment_id": a, "position": n}
            for n, a in enumerate(attachment_ids)])


def of_messages(message_ids: list[str]) -> dict[str, list[Attachment]]:
    """Each message's attachments in attaching order (messages without any left out)."""
    if not message_ids:
        return {}
    rows = db.session.execute(
        select(links.message_id, Attachment).join(Attachment, Attachment.id == links.attachment_id)
        .where(links.message_id.in_(message_ids)).order_by(links.message_id, links.position))
    found: dict[str, list[Attachment]] = {}
    for message_id, attachment in rows:
        found.setdefault(message_id, []).append(attachment)
    return found


def of_conversation(conversation_id: str) -> dict[str, list[Attachment]]:
    """Every message's attachments in a conversation, by message id, in attaching order."""
    rows = db.session.execute(
        select(links.message_id, Attachment)
        .join(Attachment, Attachment.id == links.attachment_id)
        .join(Message, Message.id == links.message_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(links.message_id, links.position))
    found: dict[str, list[Attachment]] = {}
    for message_id, attachment in rows:
        found.setdefault(message_id, []).append(attachment)
    return found


def conversations_with_name(user_id: int, text: str, limit: int) -> list[tuple]:
    """(conversation, file name) where a message of the user's conversation carries a file
    whose name contains ``text`` (any case), most recently updated first."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [tuple(row) for row in db.session.execute(
        select(Conversation, Attachment.name)
        .join(Message, Message.conversation_id == Conversation.id)
        .join(message_attachments, links.message_id == Message.id)
        .join(Attachment, Attachment.id == links.attachment_id)
        .where(Conversation.user_id == user_id, Attachment.name.ilike(pattern, escape="\\"))
        .order_by(Conversation.updated_at.desc()).limit(limit))]


def used_only_by(conversation_id: str) -> list[Attachment]:
    """The conversation's attachments no message of another conversation uses."""
    mine = (select(links.attachment_id).join(Message, Message.id == links.message_id)
            .where(Message.conversation_id == conversation_id))
    elsewhere = (select(links.attachment_id).join(Message, Message.id == links.message_id)
                 .where(Message.conversation_id != conversation_id))
    return list(db.session.scalars(select(Attachment).where(
        Attachment.id.in_(mine), Attachment.id.not_in(elsewhere))))


def used_by_messages(attachment_id: str) -> bool:
    return db.session.scalar(select(func.count()).select_from(message_attachments)
                             .where(links.attachment_id == attachment_id)) > 0


def remove(attachments: list[Attachment]) -> None:
    if attachments:
        db.session.execute(delete(Attachment).where(
            Attachment.id.in_([a.id for a in attachments])))


def load_data(attachment: Attachment) -> Attachment:
    """The attachment with its deferred columns loaded."""
    return db.session.scalar(select(Attachment).options(undefer(Attachment.data))
                             .where(Attachment.id == attachment.id))
