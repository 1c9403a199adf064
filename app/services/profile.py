"""A user's own settings: display name and password (their API keys: services/own_keys.py)."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import User
from app.services import audit
from app.services.accounts import MIN_PASSWORD, AccountError

MAX_DISPLAY_NAME = 120


def rename(user: User, display_name: str) -> None:
    """Set the display name (spaces collapsed, at most 120 characters)."""
    name = " ".join((display_name or "").split())
    if not name:
        raise AccountError("Enter a display name.")
    user.display_name = name[:MAX_DISPLAY_NAME]
    db.session.commit()


def change_password(user: User, current: str, new: str, ip: str | None = None) -> None:
    """Set a new password; every other session and remember cookie stops working."""
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountError("The current password is wrong.")
    if len(new or "") < MIN_PASSWORD:
        raise AccountError(f"The new password needs at least {MIN_PASSWORD} characters.")
    user.password_hash = generate_password_hash(new)
    user.session_version += 1
    audit.record("password.changed", actor_id=user.id, target=user.email, ip=ip)
    db.session.commit()

