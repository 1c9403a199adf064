"""Queries over conversations and their messages, full-text search included."""

from __future__ import annotations

import re

from sqlalchemy import column, func, insert, literal_column, or_, select, table, update

from app.extensions import db
from app.models import Conversation, Message, MessageStatus
from app.repositories.pages import Page, paginate

SEARCH_TERMS = 8  # words of a query that count; more only slow the index down
_WORD = re.compile(r"\w+", re.UNICODE)
OPEN_STATUSES = (MessageStatus.PENDING, MessageStatus.STREAMING)
_FTS = table("messages_fts", column("rowid"))  # SQLite only; see app/models/chat.py


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


ORDERINGS = {  # the API's ``order_by`` values; ``-`` means descending
    "updated_at": Conversation.updated_at, "created_at": Conversation.created_at,
    "title": Conversation.title,
}


def page_of(user_id: int, *, page: int = 1, per_page: int = 20,
            order_by: str = "-updated_at") -> Page[Conversation]:
    """One page of the user's conversations in ``order_by`` (a key of ORDERINGS, ``-`` first
    for descending); ties are broken by id so pages never overlap."""
    column = ORDERINGS[order_by.removeprefix("-")]
    order = column.desc() if order_by.startswith("-") else column.asc()
    statement = (select(Conversation).where(Conversation.user_id == user_id)
                 .order_by(order, Conversation.id))
    return paginate(statement, page, per_page)


def messages(conversation_id: str) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        )
    )


def messages_to_show(conversation_id: str) -> list:
    """The conversation's messages (every branch) as plain rows of what the page shows (id,
    parent_id, seq, role, status, model, content, error, thinking): a thousand ORM objects
    cost a fifth of the page's time."""
    columns = Message.__table__.c
    return list(db.session.execute(
        select(columns.id, columns.parent_id, columns.seq, columns.role, columns.status,
               columns.model, columns.content, columns.error, columns.thinking)
        .where(columns.conversation_id == conversation_id).order_by(columns.seq)))


def tree_rows(conversation_id: str) -> list:
    """The conversation's tree without the text: id, parent_id, seq, role, status, model."""
    columns = Message.__table__.c
    return list(db.session.execute(
        select(columns.id, columns.parent_id, columns.seq, columns.role, columns.status,
               columns.model)
        .where(columns.conversation_id == conversation_id).order_by(columns.seq)))


def messages_by_id(conversation_id: str, ids: list[str]) -> dict[str, Message]:
    """The conversation's messages with these ids (one query), by id."""
    if not ids:
        return {}
    return {m.id: m for m in db.session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.id.in_(ids)))}


def message_in(conversation_id: str, message_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(Message.id == message_id, Message.conversation_id == conversation_id)
    )


def next_seq(conversation_id: str) -> int:
    last = db.session.scalar(
        select(func.max(Message.seq)).where(Message.conversation_id == conversation_id)
    )
    return (last or 0) + 1


def has_open_reply(conversation_id: str) -> bool:
    return db.session.scalar(
        select(func.count()).select_from(Message).where(
            Message.conversation_id == conversation_id, Message.status.in_(OPEN_STATUSES))
    ) > 0


def finished_replies(conversation_id: str) -> int:
    """How many of the conversation's replies have been written to the end."""
    return db.session.scalar(
        select(func.count()).select_from(Message).where(
            Message.conversation_id == conversation_id, Message.role == "assistant",
            Message.status == MessageStatus.COMPLETE))


def set_automatic_title(conversation_id: str, title: str) -> bool:
    """Give the conversation an automatic title unless its user has renamed it meanwhile."""
    result = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.title_renamed.is_(False))
        .values(title=title))
    return result.rowcount == 1


def claim_reply(message_id: str) -> bool:
    """Mark a pending reply as streaming; False if another request got there first."""
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.PENDING)
        .values(status=MessageStatus.STREAMING)
    )
    return result.rowcount == 1


def stop_reply(message_id: str) -> bool:
    """Set the cancel flag of an unfinished reply (its stream notices between chunks)."""
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status.in_(OPEN_STATUSES))
        .values(status=MessageStatus.STOPPED)
    )
    return result.rowcount == 1


def status_of(message_id: str) -> str | None:
    return db.session.scalar(select(Message.status).where(Message.id == message_id))


def search(user_id: int, query: str, *, limit: int = 30) -> list[tuple[Conversation, str]]:
    """The user's conversations whose title or message text matches ``query``, newest first,
    each with the text of a matching message ("" when only the title matched)."""
    words = _WORD.findall(query or "")[:SEARCH_TERMS]
    if not words:
        return []
    hits: dict[str, str] = {}
    text_match = _message_match(words)
    if text_match is not None:
        rows = db.session.execute(
            select(Message.conversation_id, Message.content)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.user_id == user_id, text_match)
            .order_by(Message.created_at.desc())
            .limit(limit * 5)
        )
        for conversation_id, content in rows:
            hits.setdefault(conversation_id, content)
    title = Conversation.title.ilike("%" + _like_escape(" ".join(words)) + "%", escape="\\")
    conversations = db.session.scalars(
        select(Conversation)
        .where(Conversation.user_id == user_id,
               or_(title, Conversation.id.in_(list(hits))) if hits else title)
        .order_by(Conversation.updated_at.desc(), Conversation.id)
        .limit(limit)
    )
    return [(c, hits.get(c.id, "")) for c in conversations]


def _message_match(words: list[str]):
    """The dialect's full-text condition on ``messages``; words are prefix-matched, all required.

    Only ``\\w+`` words reach the query language, so no input can make a syntax error.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        fts_rowids = select(_FTS.c.rowid).where(
            literal_column("messages_fts").op("MATCH")(" ".join(f'"{w}"*' for w in words)))
        return literal_column("messages.rowid").in_(fts_rowids)
    if dialect == "postgresql":
        # The same expression as the GIN index ix_messages_search, so the planner can use it.
        config = literal_column("'simple'::regconfig")
        return func.to_tsvector(config, Message.content).op("@@")(
            func.to_tsquery(config, " & ".join(f"{w}:*" for w in words)))
    return None  # another database: titles only


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def add(obj) -> None:
    db.session.add(obj)


def insert_messages(messages: list[Message]) -> None:
    """INSERT new messages (built whole: every column set) as they are, on the session's
    connection: the objects stay outside the session, and no unit of work runs for them."""
    columns = Message.__table__.columns
    db.session.connection().execute(insert(Message.__table__), [
        {column.key: getattr(message, column.key) for column in columns}
        for message in messages])


def delete(conversation: Conversation) -> None:
    db.session.delete(conversation)
