"""Rate limits: per API key and user on the JSON APIs and chat sends, and on sign-in.

The ``limits`` library (Flask-Limiter's core) holds the storage (Redis when ``REDIS_URL`` is
set, shared by every Parlor process; process memory otherwise) and the fixed-window strategy.
The checks run from hooks added here to the blueprints, after each blueprint authenticates:
only then are the key, the user and their role's limit known. (Flask-Limiter's extension would
add its own hooks to every request, ~0.1 ms, to enforce decorator limits Parlor does not use.)

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

from flask import Flask, current_app, g, render_template, request
from flask_login import current_user
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.api.errors import ApiError

log = logging.getLogger(__name__)

API_PREFIXES = ("/v1/", "/api/v1/")
CHAT_SEND_ENDPOINTS = frozenset({"chat.create", "chat.send", "chat.regenerate", "chat.edit"})
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


def _user_limit(user) -> RateLimitItem:
    return limit_item(user.role.rate_limit, current_app.config["PARLOR_RATE_LIMIT"])


def _limit_api_caller():
    """After a JSON blueprint authenticated: count the request for the key and its owner."""
    if g.get("rate_limited"):
        return
    caller = g.get("caller")
    if caller is not None:
        user, identities = caller.user, [f"key:{caller.key.id}", f"user:{caller.user.id}"]
    elif current_user.is_authenticated:
        user, identities = current_user, [f"user:{current_user.id}"]
    else:
        return  # not authenticated (yet): the blueprint refuses it, or a later hook counts it
    g.rate_limited = True
    item = _user_limit(user)
    checks = [(identity, item) for identity in identities]
    if caller is not None and caller.key.rate_limit:  # the key's own limit replaces the role's
        item = limit_item(caller.key.rate_limit, current_app.config["PARLOR_RATE_LIMIT"])
        checks = [(f"key:{caller.key.id}", item)]
    for identity, item in checks:
        wait = rate_limits().hit("api", identity, item)
        if wait is not None:
            raise ApiError(429, f"Rate limit reached ({item}); try again in {wait} s.",
                           kind="rate_limit", retry_after=wait)


def _limit_chat_send():
    """Sending, regenerating or editing in the chat UI: the user's limit, as an inline error."""
    if request.endpoint not in CHAT_SEND_ENDPOINTS or not current_user.is_authenticated:
        return None
    wait = rate_limits().hit("chat", f"user:{current_user.id}", _user_limit(current_user))
    if wait is None:
        return None
    message = f"You are sending messages too fast. Try again in {wait} s."
    if request.headers.get("HX-Request"):  # as app.web.access.htmx_error: 422 is swapped
        html = render_template("chat/_error.html", message=message)
        return html, 422, {"HX-Retarget": "#composer-error", "HX-Reswap": "innerHTML",
                           "Retry-After": str(wait)}
    html = render_template("errors/error.html", status=429, message=message)
    return html, 429, {"Retry-After": str(wait)}


def _api_blueprints(app: Flask) -> list[str]:
    """Blueprints that serve a JSON API path, by their URL rules (however they were mounted)."""
    names = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIXES) or rule.rule in ("/v1", "/api/v1"):
            names.add(rule.endpoint.rpartition(".")[0])
    return sorted(name for name in names if name)


def init_app(app: Flask) -> None:
    """Set up the storage and add the limit hooks; call after every blueprint is registered.

    Each hook is appended to its blueprint's ``before_request`` list, so it runs after the
    blueprint's own authentication.
    """
    app.extensions[EXTENSION] = RateLimits(app)
    for name in _api_blueprints(app):
        app.before_request_funcs.setdefault(name, []).append(_limit_api_caller)
    app.before_request_funcs.setdefault("chat", []).append(_limit_chat_send)
