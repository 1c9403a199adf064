"""Who calls the native REST API: an API key (``Authorization: Bearer``) or a browser session.

A key, when sent, is the only credential looked at (a wrong one is a 401 even with a session
cookie). A session's state-changing requests must carry Flask-WTF's CSRF token in the
``X-CSRFToken`` header; key requests need none (no browser sends them on its own). Nothing here
redirects to the login page: an anonymous caller gets a JSON 401.
"""

from __future__ import annotations

from flask import g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app import limits
from app.api import auth
from app.api.errors import ApiError
from app.extensions import csrf
from app.models import ApiKey, User
from app.services import keys

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class RestCaller:
    """The signed-in user, and the key they called with (None for a browser session).

    A key caller is known first as the access cache verified it (``verified``: plain data,
    no query, safe to read off the request); its ORM rows, ``user`` and ``key``, are read
    on first use (one query for both), by the views that show or change them."""

    def __init__(self, *, user: User | None = None, verified: keys.VerifiedKey | None = None):
        self.verified = verified
        self._user = user
        self._key: ApiKey | None = None

    @property
    def user(self) -> User:
        if self._user is None:
            self._load_key()
        return self._user

    @property
    def key(self) -> ApiKey | None:
        if self.verified is not None and self._key is None:
            self._load_key()
        return self._key

    @property
    def owner(self) -> User | keys.KeyOwner:
        """The user as the checks need them: the key's owner as verified, else the row."""
        return self.verified.user if self.verified is not None else self._user

    def _load_key(self) -> None:
        key = keys.stored(self.verified)
        if key is None:  # deleted since it was verified
            raise ApiError(401, "Incorrect, expired or revoked API key.", kind="authentication")
        self._key, self._user = key, key.user

    def can(self, permission: str) -> bool:
        return auth.key_allows(self.verified, permission) if self.verified else \
            self._user.role.can(permission)


def authenticate() -> RestCaller:
    """A ``before_request`` hook: the caller, kept in ``g.rest_caller``; 401/403 otherwise."""
    if auth.presented_key(allow_x_api_key=False):
        g.rest_caller = RestCaller(verified=auth.authenticate().key)
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            try:
                csrf.protect()
            except CSRFError:
                raise ApiError(400, "A signed-in browser must send the CSRF token in the "
                                    "X-CSRFToken header.", kind="csrf_failed") from None
        g.rest_caller = RestCaller(user=current_user._get_current_object())
    else:
        raise ApiError(401, "Authentication required: send an API key as "
                            "'Authorization: Bearer <key>', or sign in.", kind="authentication")
    return g.rest_caller


def current() -> RestCaller:
    return g.rest_caller


def count_request() -> None:
    """A ``before_request`` hook, after authentication: count the request against the caller's
    rate limits (the key's and its owner's, or the signed-in user's); 429 in the REST shape."""
    caller = current()
    limits.check_api_request(caller.owner, caller.verified)


def require(permission: str) -> RestCaller:
    """The caller, if they hold ``permission`` (their role's, narrowed by the key's scopes)."""
    caller = current()
    if not caller.can(permission):
        raise ApiError(403, f"This requires the {permission!r} permission.", kind="permission")
    return caller
