"""The audit trail of admin actions and security events (never a secret)."""

from __future__ import annotations

from datetime import datetime

from app.models import AuditEvent
from app.repositories import audit as repo
from app.repositories.pages import Page


def record(action: str, *, actor_id: int | None = None, target: str = "",
           ip: str | None = None, **detail) -> None:
    """Add an audit event (the caller commits)."""
    repo.add(AuditEvent(actor_id=actor_id, action=action, target=target[:255], ip=ip,
                        detail=detail))


def search(*, action: str = "", actor: str = "", start: datetime | None = None,
           end: datetime | None = None, page: int = 1, per_page: int = 50) -> Page:
    """Events, newest first, as (event, actor e-mail) rows; ``action`` matches a prefix,
    ``actor`` a part of the actor's e-mail, ``start``/``end`` bound the time (end excluded)."""
    return repo.search(action=action, actor=actor, start=start, end=end, page=page,
                       per_page=per_page)


def actions() -> list[str]:
    """Every action name recorded so far, in alphabetical order."""
    return repo.actions()
