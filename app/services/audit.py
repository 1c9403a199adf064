"""The audit trail of admin actions and security events (never a secret)."""

from __future__ import annotations

from app.models import AuditEvent
from app.repositories import audit as repo


def record(action: str, *, actor_id: int | None = None, target: str = "",
           ip: str | None = None, **detail) -> None:
    """Add an audit event (the caller commits)."""
    repo.add(AuditEvent(actor_id=actor_id, action=action, target=target[:255], ip=ip,
                        detail=detail))
