"""API keys to Parlor: random, shown once, stored as a SHA-256 hash beside a visible prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import ApiKey, User
from app.repositories import accounts as repo

KEY_MARK = "pk"


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


def verify_key(secret: str) -> ApiKey | None:
    """The live key matching ``secret``: known prefix, equal hash, not expired or revoked,
    owner enabled. Anything else is None."""
    parts = (secret or "").split("-")
    if len(parts) < 3 or parts[0] != KEY_MARK or len(secret) > 200:
        return None
    key = repo.key_by_prefix(f"{parts[0]}-{parts[1]}")
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    now = datetime.now(UTC)
    if key.revoked_at or (key.expires_at and key.expires_at <= now) or not key.user.is_enabled:
        return None
    return key


def revoke_key(prefix: str) -> ApiKey | None:
    key = repo.key_by_prefix(prefix.strip())
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        db.session.commit()
    return key


LAST_USED_PRECISION = timedelta(minutes=1)


def touch_last_used(key: ApiKey) -> None:
    """Note that ``key`` was used; written at most once a minute so the hot path stays cheap."""
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        key.last_used_at = now
        db.session.commit()
