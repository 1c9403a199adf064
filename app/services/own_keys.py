"""A user's own API keys to Parlor, as the Settings page and ``/api/v1/keys`` manage them:
list, create (the secret returned once), revoke.

Scopes are permission names. A key's scopes only narrow its owner's role, never widen it:
asking for a permission the role lacks is refused (REST 403, an inline error on the form).
No scopes means all of the role's permissions.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.models import ApiKey, User
from app.repositories import accounts as repo
from app.services import keys
from app.services.accounts import AccountError

OWN_KEYS_PERMISSION = "own_keys"


class ScopeError(AccountError):
    """Asked for a key the owner's role does not allow (no own_keys, or a scope beyond it)."""


class NoSuchKey(AccountError):
    """The key is not the user's (another user's key reads exactly like a missing one)."""


def status(key: ApiKey, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    now = now or datetime.now(UTC)
    if key.revoked_at:
        return "revoked"
    if key.expires_at and key.expires_at <= now:
        return "expired"
    return "active"


def list_keys(user: User) -> list[ApiKey]:
    """Every key of ``user``, revoked and expired ones included."""
    return repo.keys_of_user(user.id)


def create(user: User, *, name: str = "", scopes: list[str] | None = None,
           expires_days: int | None = None,
           via: ApiKey | None = None) -> tuple[ApiKey, str]:
    """A new key for ``user``; the secret is returned this once.

    ``via``: the key the request came with. A key made through a scoped key is scoped within
    it (no scopes asked for: the same scopes), so a narrowed key can never mint a wider one."""
    if not user.role.can(OWN_KEYS_PERMISSION):
        raise ScopeError("Your role may not create API keys.")
    wanted = set(scopes or ())
    beyond = sorted(wanted - set(user.role.permissions or ()))
    if beyond:
        raise ScopeError(f"Your role does not hold the scope {beyond[0]!r}.")
    if via is not None and via.scopes:
        wanted = wanted or set(via.scopes)
        wider = sorted(wanted - set(via.scopes))
        if wider:
            raise ScopeError(f"The key you called with does not hold the scope {wider[0]!r}.")
    return keys.create_key(user, name=name or "", expires_days=expires_days,
                           scopes=sorted(wanted))


def find(user: User, key_ref: str | int) -> ApiKey | None:
    """The user's key by id or prefix; another user's key reads like a missing one."""
    return next((k for k in repo.keys_of_user(user.id)
                 if str(key_ref) in (str(k.id), k.prefix)), None)


def revoke(user: User, key_ref: str | int) -> ApiKey:
    """Revoke the user's key with this id or prefix (revoking twice changes nothing)."""
    key = find(user, key_ref)
    if key is None:
        raise NoSuchKey("There is no such key.")
    keys.revoke_key(key.prefix)
    return key
