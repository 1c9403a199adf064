"""Responses API answers kept for their key's owner (``store``: true)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.columns import UTCDateTime, utcnow


class StoredResponse(db.Model):
    """One response with the input items it answered: read back with ``GET``, deleted, or
    continued with ``previous_response_id`` (the chain is followed through that column)."""

    __tablename__ = "stored_responses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # resp_…
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    # No foreign key: deleting one response of a chain must not touch the later ones.
    previous_response_id: Mapped[str | None] = mapped_column(String(64))
    input_items: Mapped[list] = mapped_column(JSON, default=list)  # this request's own input
    body: Mapped[dict] = mapped_column(JSON)  # the response object, output items included
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
