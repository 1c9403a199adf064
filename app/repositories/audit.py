"""Writes and queries over the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, User
from app.repositories.pages import Page, paginate


def add(event: AuditEvent) -> None:
    db.session.add(event)


def search(*, action: str = "", actor: str = "", start: datetime | None = None,
           end: datetime | None = None, page: int = 1, per_page: int = 50) -> Page:
    """Events, newest first, as (event, actor e-mail) rows; ``action`` matches a prefix
    (``user.`` finds every user event), ``actor`` a part of the actor's e-mail."""
    statement = (select(AuditEvent, User.email).outerjoin(User, AuditEvent.actor_id == User.id)
                 .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()))
    if action:
        statement = statement.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        statement = statement.where(
            func.lower(User.email).contains(actor.strip().lower(), autoescape=True))
    if start:
        statement = statement.where(AuditEvent.created_at >= start)
    if end:
        statement = statement.where(AuditEvent.created_at < end)
    return paginate(statement, page, per_page, rows=True)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(
        AuditEvent.action)))
