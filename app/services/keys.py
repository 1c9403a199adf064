"""API keys to Parlor: random, shown once, stored as a SHA-256 hash beside a visible prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from app.extensions import db
from app.models import ApiKey, User
from app.repositories import accounts as repo
from app.services import access_cache

KEY_MARK = "pk"


@dataclass(frozen=True)
class KeyRole:
    """What a request needs of the key owner's role."""

    id: int
    name: str
    permissions: tuple[str, ...]
    rate_limit: str | None
    monthly_token_budget: int | None
    monthly_cost_budget: Decimal | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class KeyOwner:
    """What a request needs of the key's owner."""

    id: int
    is_enabled: bool
    monthly_token_budget: int | None
    role: KeyRole
    monthly_cost_budget: Decimal | None = None
    team_id: int | None = None

    @classmethod
    def of(cls, user: User) -> KeyOwner:
        """A loaded user (and role) as plain data: safe to read off the request, where the
        ORM objects may be expired by the request's next commit."""
        role = user.role
        return cls(id=user.id, is_enabled=user.is_enabled,
                   monthly_token_budget=user.monthly_token_budget,
                   role=KeyRole(id=role.id, name=role.name,
                                permissions=tuple(role.permissions or ()),
                                rate_limit=role.rate_limit,
                                monthly_token_budget=role.monthly_token_budget,
                                monthly_cost_budget=role.monthly_cost_budget),
                   monthly_cost_budget=user.monthly_cost_budget, team_id=user.team_id)


@dataclass(frozen=True)
class VerifiedKey:
    """A key as one request sees it: read in one query, no ORM objects (the API's hot path).
    It answers the same attribute names as :class:`ApiKey` for what it holds."""

    id: int
    user_id: int
    prefix: str
    scopes: tuple[str, ...]
    rate_limit: str | None
    monthly_token_budget: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    user: KeyOwner
    monthly_cost_budget: Decimal | None = None
    team_id: int | None = None  # a team's service key
    response_cache_ttl: int | None = None  # the key's own response-cache opt-in (seconds)

    @classmethod
    def from_row(cls, row) -> VerifiedKey:
        role = KeyRole(id=row.role_id, name=row.role_name,
                       permissions=tuple(row.role_permissions or ()),
                       rate_limit=row.role_rate_limit, monthly_token_budget=row.role_budget,
                       monthly_cost_budget=row.role_cost_budget)
        owner = KeyOwner(id=row.user_id, is_enabled=bool(row.user_enabled),
                         monthly_token_budget=row.user_budget, role=role,
                         monthly_cost_budget=row.user_cost_budget, team_id=row.user_team_id)
        return cls(id=row.id, user_id=row.user_id, prefix=row.prefix,
                   scopes=tuple(row.scopes or ()), rate_limit=row.rate_limit,
                   monthly_token_budget=row.monthly_token_budget, expires_at=row.expires_at,
                   revoked_at=row.revoked_at, last_used_at=row.last_used_at, user=owner,
                   monthly_cost_budget=row.monthly_cost_budget, team_id=row.team_id,
                   response_cache_ttl=row.response_cache_ttl)


class StoredKey(NamedTuple):
    """What the access cache keeps of a key: its hash, to compare, and what requests need."""

    key_hash: str
    key: VerifiedKey


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    user: User, name: str = "", expires_days: int | None = None, scopes: list[str] | None = None,
    rate_limit: str | None = None, monthly_token_budget: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for ``user``; the full key is returned once and never stored."""
    prefix = f"{KEY_MARK}-{secrets.token_hex(4)}"
    secret = f"{prefix}-{secrets.token_urlsafe(32)}"  # 256 random bits
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    key = ApiKey(user=user, name=name.strip()[:120], prefix=prefix, key_hash=_hash(secret),
                 scopes=scopes or [], expires_at=expires, rate_limit=rate_limit,
                 monthly_token_budget=monthly_token_budget)
    repo.add(key)
    db.session.commit()
    return key, secret


def verify_key(secret: str) -> VerifiedKey | None:
    """The live key matching ``secret``: known prefix, equal hash, not expired or revoked,
    owner enabled. Anything else is None."""
    parts = (secret or "").split("-")
    if len(parts) < 3 or parts[0] != KEY_MARK or len(secret) > 200:
        return None
    stored_key = access_cache.cache().get(f"{parts[0]}-{parts[1]}", _read_key)
    if stored_key is None or not hmac.compare_digest(stored_key.key_hash, _hash(secret)):
        return None
    key = stored_key.key
    now = datetime.now(UTC)
    if key.revoked_at or (key.expires_at and key.expires_at <= now) or not key.user.is_enabled:
        return None
    return key


def _read_key(prefix: str) -> StoredKey | None:
    """The key's hash and what a request needs of it, read in one query (kept by the
    access cache until a key, user or role changes)."""
    row = repo.key_row_by_prefix(prefix)
    return None if row is None else StoredKey(row.key_hash, VerifiedKey.from_row(row))


def stored(key: VerifiedKey) -> ApiKey | None:
    """The verified key's row with its owner and role, for views that show or change them."""
    return repo.key_by_prefix(key.prefix)


def revoke_key(prefix: str) -> ApiKey | None:
    key = repo.key_by_prefix(prefix.strip())
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        db.session.commit()
    return key


LAST_USED_PRECISION = timedelta(minutes=1)


def touch_last_used(key: VerifiedKey) -> None:
    """Note that ``key`` was used; written at most once a minute so the hot path stays cheap."""
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        repo.touch_key(key.id, now)
        db.session.commit()
        access_cache.cache().update(
            key.prefix, lambda kept: kept._replace(key=replace(kept.key, last_used_at=now)))
