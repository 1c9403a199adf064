"""API keys as an admin sees them: create one for any user, revoke any, all audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.extensions import db
from app.models import ApiKey, User
from app.repositories import accounts as repo
from app.repositories.pages import Page
from app.services import audit, keys
from app.services.actor import Actor
from app.services.model_routes import MAX_CACHE_TTL
from app.services.roles import MAX_BUDGET, RATE_LIMIT

SCOPE = re.compile(r"^[a-z][a-z0-9:_.-]{0,31}$")


class KeyRequestError(ValueError):
    """A key request that breaks a rule; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def listing(owner: str = "", *, page: int = 1, per_page: int = 25) -> Page[ApiKey]:
    """Every key, newest first; ``owner`` matches a part of the owner's e-mail."""
    return repo.all_keys(owner, page=page, per_page=per_page)


def find(key_id: int) -> ApiKey | None:
    """The key with this id (with its owner), or None."""
    return repo.key_by_id(key_id)


def keys_of(user: User) -> list[ApiKey]:
    """Every key of ``user``, revoked and expired ones included."""
    return repo.keys_of_user(user.id)


def count_live(now: datetime | None = None) -> int:
    """How many keys are neither revoked nor expired."""
    return repo.count_live_keys(now or datetime.now(UTC))


def parse_scopes(text: str | None) -> list[str]:
    scopes = [s for s in re.split(r"[\s,]+", text or "") if s]
    bad = [s for s in scopes if not SCOPE.match(s)]
    if bad:
        raise KeyRequestError(f"Not a scope: {bad[0]}. Scopes are short lower-case words.",
                              "scopes")
    return sorted(set(scopes))


def create(actor: Actor, *, email: str, name: str = "", scopes: list[str] | None = None,
           expires_days: int | None = None, rate_limit: str | None = None,
           monthly_token_budget: int | None = None) -> tuple[ApiKey, str]:
    """A new key for the user with ``email``; the secret is returned once, never recorded."""
    user = repo.user_by_email(email or "")
    if user is None:
        raise KeyRequestError(f"No user has the e-mail {email!r}.", "email")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise KeyRequestError("Keys expire after 1 to 3650 days.", "expires_days")
    rate_limit = (rate_limit or "").strip() or None
    if rate_limit and (len(rate_limit) > 64 or not RATE_LIMIT.match(rate_limit)):
        raise KeyRequestError("Write a rate limit like 60/minute or 1000 per day.", "rate_limit")
    _check_budget(monthly_token_budget)
    key, secret = keys.create_key(user, name=name, expires_days=expires_days, scopes=scopes,
                                  rate_limit=rate_limit, monthly_token_budget=monthly_token_budget)
    audit.record("key.created", actor_id=actor.user_id, ip=actor.ip, target=f"key:{key.prefix}",
                 owner=user.email, name=key.name, scopes=key.scopes, rate_limit=rate_limit,
                 monthly_token_budget=monthly_token_budget,
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


def set_budget(actor: Actor, key: ApiKey, monthly_token_budget: int | None) -> ApiKey:
    """Cap the tokens spent through ``key`` a month (None: no cap of its own), audited."""
    _check_budget(monthly_token_budget)
    before = key.monthly_token_budget
    if before != monthly_token_budget:
        key.monthly_token_budget = monthly_token_budget
        audit.record("key.budget_changed", actor_id=actor.user_id, ip=actor.ip,
                     target=f"key:{key.prefix}", owner=key.user.email, before=before,
                     after=monthly_token_budget)
        db.session.commit()
    return key


def set_response_cache(actor: Actor, key: ApiKey, ttl: int | None) -> ApiKey:
    """Keep the answers to ``key``'s calls ``ttl`` seconds in the response cache on routes that
    keep none themselves (None: only the routes decide), audited."""
    if ttl is not None and (isinstance(ttl, bool) or not 1 <= ttl <= MAX_CACHE_TTL):
        raise KeyRequestError(f"Keep answers for 1 to {MAX_CACHE_TTL:,} seconds (empty: as "
                              "the routes say).", "response_cache_ttl")
    before = key.response_cache_ttl
    if before != ttl:
        key.response_cache_ttl = ttl
        audit.record("key.response_cache_changed", actor_id=actor.user_id, ip=actor.ip,
                     target=f"key:{key.prefix}", owner=key.user.email, before=before, after=ttl)
        db.session.commit()  # a key changed: every process reads it again (access_cache)
    return key


def _check_budget(tokens: int | None) -> None:
    if tokens is not None and (isinstance(tokens, bool) or not 0 <= tokens <= MAX_BUDGET):
        raise KeyRequestError(f"The monthly budget is a number of tokens, 0 to {MAX_BUDGET:,} "
                              "(empty: no cap of the key's own).", "monthly_token_budget")
