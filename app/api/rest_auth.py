"""Who calls the native REST API: an API key (``Authorization: Bearer``) or a browser session.

A key, when sent, is the only credential looked at (a wrong one is a 401 even with a session
cookie). A session's state-changing requests must carry Flask-WTF's CSRF token in the
``X-CSRFToken`` header; key requests need none (no browser sends them on its own). Nothing here
redirects to the login page: an anonymous caller gets a JSON 401.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class RestCaller:
    """The signed-in user, and the key they called with (None for a browser session)."""

    user: User
    key: ApiKey | None

    def can(self, permission: str) -> bool:
        return auth.key_allows(self.key, permission) if self.key else \
            self.user.role.can(permission)


def authenticate() -> RestCaller:
    """A ``before_request`` hook: the caller, kept in ``g.rest_caller``; 401/403 otherwise."""
    if auth.presented_key(allow_x_api_key=False):
        key_caller = auth.authenticate()
        key = keys.stored(key_caller.key)  # the REST views read and change rows
        if key is None:  # deleted in between
            raise ApiError(401, "Incorrect, expired or revoked API key.", kind="authentication")
        g.rest_caller = RestCaller(user=key.user, key=key)
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            try:
                csrf.protect()
            except CSRFError:
                raise ApiError(400, "A signed-in browser must send the CSRF token in the "
                                    "X-CSRFToken header.", kind="csrf_failed") from None
        g.rest_caller = RestCaller(user=current_user._get_current_object(), key=None)
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
    limits.check_api_request(caller.user, caller.key)


def require(permission: str) -> RestCaller:
    """The caller, if they hold ``permission`` (their role's, narrowed by the key's scopes)."""
    caller = current()
    if not caller.can(permission):
        raise ApiError(403, f"This requires the {permission!r} permission.", kind="permission")
    return caller
