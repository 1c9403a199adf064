"""Conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DDL, JSON, Boolean, ForeignKey, Index, Integer, String, Text, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.attachments import Attachment, message_attachments
from app.models.columns import UTCDateTime, public_id, utcnow


class MessageStatus(StrEnum):
    PENDING = "pending"  # a reply placeholder no stream has claimed yet
    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    INCOMPLETE = "incomplete"
    ERROR = "error"
    INTERRUPTED = "interrupted"  # its producer died (lease lapsed) or was shut down; text kept


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_user_updated", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=public_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="New chat")
    model: Mapped[str] = mapped_column(String(200))
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The end of the branch shown (and sent to the model); messages form a tree by parent_id.
    # No foreign key: conversations and messages would point at each other.
    current_leaf_id: Mapped[str | None] = mapped_column(String(32))
    # The user gave the title: an automatic title never overwrites it.
    title_renamed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Sampling options for every reply (temperature, max_tokens, reasoning_effort); an absent
    # key leaves the model route's own default.
    options: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Message.seq",
    )


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_seq", "conversation_id", "seq"),
                      Index("ix_messages_lease_expires_at", "lease_expires_at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=public_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # Order of creation in the conversation. The tree: parent_id is the message before this one
    # on its branch (None for a first message); edits and regenerations are siblings.
    seq: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    # The model's reasoning before its reply (shown collapsed as Thinking); never sent back.
    thinking: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.COMPLETE)
    model: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    # A streaming reply's lease, renewed by its producer; lapsed means the producer is gone.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    # The files a user message carries, in attaching order (linked by services/attachments).
    attachments: Mapped[list[Attachment]] = relationship(
        secondary=message_attachments, viewonly=True, order_by=message_attachments.c.position)


# Full-text search over message text. The index lives outside the ORM metadata (SQLite has no
# DDL for it there); migration 0002 creates the same objects, and these events create them for
# ``create_all``. SQLite: an external-content FTS5 table over ``messages`` kept in sync by
# triggers. PostgreSQL: a GIN expression index queried with the very same expression.
SEARCH_INDEX_TABLES = frozenset({
    "messages_fts", "messages_fts_data", "messages_fts_idx", "messages_fts_docsize",
    "messages_fts_config",
})
SEARCH_INDEX_NAME = "ix_messages_search"
SEARCH_INDEX_DDL = {
    "sqlite": [
        "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
        "content, content='messages', tokenize='unicode61 remove_diacritics 2')",
        "CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); END",
        "CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content) "
        "VALUES ('delete', old.rowid, old.content); END",
        "CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF content ON messages "
        "BEGIN INSERT INTO messages_fts(messages_fts, rowid, content) "
        "VALUES ('delete', old.rowid, old.content); "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); END",
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    ],
    "postgresql": [
        f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX_NAME} ON messages "
        "USING gin (to_tsvector('simple', content))",
    ],
}
SEARCH_INDEX_DROP = {
    "sqlite": ["DROP TABLE IF EXISTS messages_fts"],  # the triggers go with ``messages``
    "postgresql": [f"DROP INDEX IF EXISTS {SEARCH_INDEX_NAME}"],
}

for _dialect, _statements in SEARCH_INDEX_DDL.items():
    for _statement in _statements:
        event.listen(Message.__table__, "after_create",
                     DDL(_statement).execute_if(dialect=_dialect))
for _dialect, _statements in SEARCH_INDEX_DROP.items():
    for _statement in _statements:
        event.listen(Message.__table__, "before_drop",
                     DDL(_statement).execute_if(dialect=_dialect))
