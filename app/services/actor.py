"""Who performs an admin action, as the audit trail records it (no Flask request in services)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    ip: str | None = None


SYSTEM = Actor(user_id=None, ip=None)  # the CLI and other unattended callers
