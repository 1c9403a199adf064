"""Writes and queries over the audit trail."""

from __future__ import annotations

from app.extensions import db
from app.models import AuditEvent


def add(event: AuditEvent) -> None:
    db.session.add(event)
