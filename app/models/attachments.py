"""Files attached to chat messages: stored once per distinct content per owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.columns import UTCDateTime, public_id, utcnow

# Which attachments a user message carries, in the order they were attached.
message_attachments = Table(
    "message_attachments",
    db.metadata,
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Index("ix_message_attachments_attachment", "attachment_id"),
)


class Attachment(db.Model):
    """An uploaded file. ``sha256`` is of the stored bytes (an image after re-encoding);
    ``data`` holds them in the database store and is NULL when they live on disk."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("user_id", "sha256", name="uq_attachments_user_sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=public_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # A PDF's text (pypdf, page-marked) or a text file's, for models that take text only.
    text: Mapped[str | None] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
