"""API keys as an admin sees them: create one for any user, revoke any, all audited."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import ApiKey
from app.repositories import accounts as repo
from app.services import audit, keys
from app.services.actor import Actor
from app.services.roles import RATE_LIMIT

SCOPE = re.compile(r"^[a-z][a-z0-9:_.-]{0,31}$")


class KeyRequestError(ValueError):
    """A key request that breaks a rule; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def parse_scopes(text: str | None) -> list[str]:
    scopes = [s for s in re.split(r"[\s,]+", text or "") if s]
    bad = [s for s in scopes if not SCOPE.match(s)]
    if bad:
        raise KeyRequestError(f"Not a scope: {bad[0]}. Scopes are short lower-case words.",
                              "scopes")
    return sorted(set(scopes))


def create(actor: Actor, *, email: str, name: str = "", scopes: list[str] | None = None,
           expires_days: int | None = None, rate_limit: str | None = None) -> tuple[ApiKey, str]:
    """A new key for the user with ``email``; the secret is returned once, never recorded."""
    user = repo.user_by_email(email or "")
    if user is None:
        raise KeyRequestError(f"No user has the e-mail {email!r}.", "email")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise KeyRequestError("Keys expire after 1 to 3650 days.", "expires_days")
    rate_limit = (rate_limit or "").strip() or None
    if rate_limit and (len(rate_limit) > 64 or not RATE_LIMIT.match(rate_limit)):
        raise KeyRequestError("Write a rate limit like 60/minute or 1000 per day.", "rate_limit")
    key, secret = keys.create_key(user, name=name, expires_days=expires_days, scopes=scopes,
                                  rate_limit=rate_limit)
    audit.record("key.created", actor_id=actor.user_id, ip=actor.ip, target=f"key:{key.prefix}",
                 owner=user.email, name=key.name, scopes=key.scopes, rate_limit=rate_limit,
                 expires_at=key.expires_at.isoformat() if key.expires_at else None)
    db.session.commit()
    return key, secret


def revoke(actor: Actor, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        keys.revoke_key(key.prefix)
        audit.record("key.revoked", actor_id=actor.user_id, ip=actor.ip,
                     target=f"key:{key.prefix}", owner=key.user.email)
        db.session.commit()
    return key
