"""Queries over stored Responses API answers; every one is scoped to the owner's user id."""

from __future__ import annotations

from sqlalchemy import delete, select

from app.extensions import db
from app.models import StoredResponse


def add(stored: StoredResponse) -> None:
    db.session.add(stored)


def get(user_id: int, response_id: str) -> StoredResponse | None:
    """The user's stored response ``response_id``; None for an unknown id or another's."""
    return db.session.scalar(select(StoredResponse).where(
        StoredResponse.id == response_id, StoredResponse.user_id == user_id))


def remove(user_id: int, response_id: str) -> bool:
    """Delete the user's stored response; False when there was none."""
    result = db.session.execute(delete(StoredResponse).where(
        StoredResponse.id == response_id, StoredResponse.user_id == user_id))
    return result.rowcount > 0
