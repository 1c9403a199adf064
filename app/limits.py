"""Rate limits: per API key and user on the JSON APIs and chat sends, and on sign-in.

The ``limits`` library (Flask-Limiter's core) holds the storage (Redis when ``REDIS_URL`` is
set, shared by every Parlor process; process memory otherwise) and the fixed-window strategy.
The checks (:func:`check_api_request`, :func:`check_chat_send`) raise :class:`RateLimited`;
each audience calls them from its own hook, after its blueprints authenticate (only then are
the key, the user and their role's limit known), and answers the refusal in its own shape.
(Flask-Limiter's extension would add its own hooks to every request, ~0.1 ms, to enforce
decorator limits Parlor does not use.)

When Redis cannot be reached (each call gives up after ``STORAGE_TIMEOUT`` seconds):
- sign-in fails closed: 503 with ``Retry-After`` until Redis answers again;
- API and chat limits fall back to the same limits counted in this process's memory (a
  bounded local cap, logged as a warning), so no request waits on Redis;
- Redis is tried again after ``RECHECK_SECONDS``; recovery needs no restart.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.services import teams

log = logging.getLogger(__name__)

STORAGE_TIMEOUT = 0.5  # seconds a Redis call may take before the limit counts as unreachable
RECHECK_SECONDS = 5.0  # how long to stay on the fallback before trying Redis again
EXTENSION = "parlor.limits"


class StorageDown(Exception):
    """The shared limit storage is unreachable and this limit fails closed."""


@dataclass(frozen=True)
class Refusal:
    """A request turned away: why, and in how many seconds to try again."""

    message: str
    retry_after: int
    status: int = 429


@lru_cache(maxsize=256)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def limit_item(limit: str | None, default: str) -> RateLimitItem:
    """``limit`` parsed (e.g. ``60/minute``), or ``default`` when it is empty or unreadable."""
    if limit:
        try:
            return _parsed(limit)
        except ValueError:
            log.warning("ignoring the unreadable rate limit %r", limit)
    return _parsed(default)


def client_ip() -> str:
    """The client's address, as ProxyFix set it from the trusted proxies' headers only."""
    return request.remote_addr or "unknown"


class RateLimits:
    """The limits of one app: the shared storage, and a memory fallback for Redis outages."""

    def __init__(self, app: Flask):
        redis_url = app.config.get("REDIS_URL")
        options: dict = {"wrap_exceptions": True}
        if redis_url:
            options |= {"socket_timeout": STORAGE_TIMEOUT,
                        "socket_connect_timeout": STORAGE_TIMEOUT}
        self.shared = FixedWindowRateLimiter(storage_from_string(redis_url or "memory://",
                                                                 **options))
        self._fallback = FixedWindowRateLimiter(MemoryStorage())
        self._down_until = 0.0

    @property
    def storage_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, method: str, item: RateLimitItem, key: str, *, fail_closed: bool):
        """``hit`` or ``test`` on the shared storage, or on the fallback while it is down."""
        if not self.storage_down:
            try:
                return getattr(self.shared, method)(item, key)
            except StorageError as exc:
                self._down_until = time.monotonic() + RECHECK_SECONDS
                log.warning("rate limit storage unreachable (%s); %s for %.0f s",
                            type(exc.storage_error).__name__,
                            "refusing sign-ins" if fail_closed else "counting in memory",
                            RECHECK_SECONDS)
        if fail_closed:
            raise StorageDown
        return getattr(self._fallback, method)(item, key)

    def _retry_after(self, item: RateLimitItem, key: str) -> int:
        strategy = self._fallback if self.storage_down else self.shared
        try:
            reset = strategy.get_window_stats(item, key).reset_time
        except StorageError:
            return int(RECHECK_SECONDS)
        return max(1, math.ceil(reset - time.time()))

    def hit(self, scope: str, identity: str, item: RateLimitItem) -> int | None:
        """Count one request; the seconds to wait when it is over the limit, else None."""
        key = f"{scope}:{identity}"
        if self._call("hit", item, key, fail_closed=False):
            return None
        return self._retry_after(item, key)

    # -- sign-in: counts failures, per account and per client address, and fails closed --

    def login_refusal(self, email: str) -> Refusal | None:
        """Why a sign-in attempt must not even be checked now, or None."""
        try:
            for key, item in self._login_keys(email):
                if not self._call("test", item, key, fail_closed=True):
                    return Refusal("Too many failed sign-ins. Wait a moment and try again.",
                                   self._retry_after(item, key))
        except StorageDown:
            return Refusal("Sign-in is unavailable for a moment. Try again shortly.",
                           int(RECHECK_SECONDS), status=503)
        return None

    def count_failed_login(self, email: str) -> None:
        try:
            for key, item in self._login_keys(email):
                self._call("hit", item, key, fail_closed=True)
        except StorageDown:
            pass  # the next attempt is refused by login_refusal while the storage is down

    def _login_keys(self, email: str) -> list[tuple[str, RateLimitItem]]:
        config = current_app.config
        account = (email or "").strip().lower()[:255]
        return [(f"login-account:{account}", limit_item(config["PARLOR_LOGIN_RATE_LIMIT"],
                                                        "10/minute")),
                (f"login-ip:{client_ip()}", limit_item(config["PARLOR_LOGIN_IP_RATE_LIMIT"],
                                                       "30/minute"))]


def rate_limits() -> RateLimits:
    return current_app.extensions[EXTENSION]


class RateLimited(Exception):
    """Over a rate limit: the limit (as text) and the seconds to wait. Each audience answers it
    in its own shape (an htmx message, a REST error, an OpenAI or Anthropic wire error)."""

    def __init__(self, limit: str, retry_after: int):
        super().__init__(f"rate limit {limit} reached; retry in {retry_after} s")
        self.limit = limit
        self.retry_after = retry_after


def _user_limit(user) -> RateLimitItem:
    return limit_item(user.role.rate_limit, current_app.config["PARLOR_RATE_LIMIT"])


def check_api_request(user, key=None) -> None:
    """Count one JSON API request for ``key`` and its owner ``user`` (or the user alone, for a
    browser session); raises :class:`RateLimited` when over the limit.

    A key's own limit replaces its owner's role limit and is counted for the key only.
    """
    if key is not None and key.rate_limit:
        checks = [(f"key:{key.id}",
                   limit_item(key.rate_limit, current_app.config["PARLOR_RATE_LIMIT"]))]
    else:
        item = _user_limit(user)
        identities = ([f"key:{key.id}"] if key is not None else []) + [f"user:{user.id}"]
        checks = [(identity, item) for identity in identities]
    for identity, item in checks:
        _hit("api", identity, item)
    _check_team("api", user, key)


def check_chat_send(user) -> None:
    """Count one chat message sent (or regenerated, or edited) by ``user`` in the browser;
    raises :class:`RateLimited` when over the user's limit."""
    _hit("chat", f"user:{user.id}", _user_limit(user))
    _check_team("chat", user)


def _check_team(scope: str, user, key=None) -> None:
    """A team's rate limit, shared by all its members and service keys (on top of theirs):
    one query, only for a caller in a team."""
    team_id = getattr(key, "team_id", None) or getattr(user, "team_id", None)
    limit = teams.rate_limit_of(team_id) if team_id else None
    if limit:
        _hit(scope, f"team:{team_id}", limit_item(limit, current_app.config["PARLOR_RATE_LIMIT"]))


def _hit(scope: str, identity: str, item: RateLimitItem) -> None:
    wait = rate_limits().hit(scope, identity, item)
    if wait is not None:
        raise RateLimited(str(item), wait)


def init_app(app: Flask) -> None:
    """Set up the shared storage and its fallback. The checks are called by each audience's
    own hook (:mod:`app.api`, :mod:`app.web`), which turns a refusal into its response."""
    app.extensions[EXTENSION] = RateLimits(app)
