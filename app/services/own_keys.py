"""A user's own API keys as the REST API manages them: scopes within the role, expiry, revoke.

Scopes are permission names; a key can only be narrowed, never given a permission its owner's
role lacks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.models import ApiKey, User
from app.repositories import accounts as repo
from app.services import keys
from app.services.accounts import AccountError

OWN_KEYS_PERMISSION = "own_keys"


class ScopeError(AccountError):
    """Asked for a scope the owner's role does not hold."""


def status(key: ApiKey, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if key.revoked_at:
        return "revoked"
    if key.expires_at and key.expires_at <= now:
        return "expired"
    return "active"


def list_keys(user: User) -> list[ApiKey]:
    return repo.keys_of_user(user.id)


def create(user: User, *, name: str = "", scopes: list[str] | None = None,
           expires_days: int | None = None) -> tuple[ApiKey, str]:
    """A new key for ``user``; the secret is returned this once."""
    if not user.role.can(OWN_KEYS_PERMISSION):
        raise ScopeError("Your role may not create API keys.")
    beyond = sorted(set(scopes or ()) - set(user.role.permissions or ()))
    if beyond:
        raise ScopeError(f"Your role does not hold the scope {beyond[0]!r}.")
    return keys.create_key(user, name=name, expires_days=expires_days,
                           scopes=sorted(set(scopes or ())))


def find(user: User, key_ref: str) -> ApiKey | None:
    """The user's key by id or prefix; another user's key reads like a missing one."""
    return next((k for k in repo.keys_of_user(user.id)
                 if key_ref in (str(k.id), k.prefix)), None)


def revoke(user: User, key: ApiKey) -> None:
    if key.user_id == user.id:
        keys.revoke_key(key.prefix)
