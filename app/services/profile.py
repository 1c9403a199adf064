"""A user's own settings: display name, password and their API keys to Parlor."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import ApiKey, User
from app.repositories import accounts as repo
from app.services import audit, keys
from app.services.accounts import MIN_PASSWORD, AccountError

MAX_DISPLAY_NAME = 120


def rename(user: User, display_name: str) -> None:
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


def own_keys(user: User) -> list[ApiKey]:
    return repo.keys_of_user(user.id)


def create_key(user: User, name: str) -> tuple[ApiKey, str]:
    if not user.role.can("own_keys"):
        raise AccountError("Your role may not create API keys.")
    return keys.create_key(user, name=name or "")


def revoke_key(user: User, key_id: int) -> ApiKey:
    """Revoke one of the user's own keys; another user's key looks like a missing one."""
    key = next((k for k in repo.keys_of_user(user.id) if k.id == key_id), None)
    if key is None:
        raise AccountError("There is no such key.")
    return keys.revoke_key(key.prefix)
