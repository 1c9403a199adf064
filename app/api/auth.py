"""API-key authentication for the JSON API; a browser session never counts here.

A key comes in ``Authorization: Bearer <key>`` or, where Anthropic clients send it,
``x-api-key`` (which wins when both are present, as on Anthropic's API). Keys in the query
string are refused outright: URLs end up in access logs, proxies and browser history.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from app import limits
from app.api import tags
from app.api.errors import ApiError
from app.models import ApiKey
from app.models.accounts import PERMISSIONS
from app.services import gateway, keys

QUERY_KEY_NAMES = ("api_key", "key", "api-key", "apikey", "access_token")
API_PERMISSION = "api"


@dataclass(frozen=True)
class ApiCaller:
    """Who is calling: the key and its owner (with their role), as read for this request."""

    user: keys.KeyOwner
    key: keys.VerifiedKey

    @property
    def role(self) -> str:
        return self.user.role.name

    @property
    def team_id(self) -> int | None:
        """The team the calls count towards: the key's (a service key), else the owner's."""
        return self.key.team_id or self.user.team_id

    def for_ledger(self) -> gateway.Caller:
        """The ledger's caller, with the request's spend tags (app/api/tags.py)."""
        return gateway.Caller(user_id=self.user.id, role=self.role, api_key_id=self.key.id,
                              user=self.user, key=self.key, tags=tags.request_tags())


def presented_key(*, allow_x_api_key: bool) -> str | None:
    """The key the request carries, or None; raises for a key in the URL."""
    if any(name in request.args for name in QUERY_KEY_NAMES):
        raise ApiError(401, "API keys are not accepted in the URL; send the key in the "
                            "Authorization header as 'Bearer <key>'.", kind="authentication")
    if allow_x_api_key and request.headers.get("x-api-key"):
        return request.headers["x-api-key"].strip()
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def authenticate(*, allow_x_api_key: bool = False) -> ApiCaller:
    """The caller behind the request's API key (also kept in ``g.caller``).

    401 for a missing, unknown, expired or revoked key or a disabled owner; 403 when the
    owner's role, or the key's scopes, lack the ``api`` permission.
    """
    secret = presented_key(allow_x_api_key=allow_x_api_key)
    if not secret:
        header = "the x-api-key header or " if allow_x_api_key else ""
        raise ApiError(401, f"No API key was provided; send it in {header}the Authorization "
                            "header as 'Bearer <key>'.", kind="authentication")
    key = keys.verify_key(secret)
    if key is None:
        raise ApiError(401, "Incorrect, expired or revoked API key.", kind="authentication")
    if not key.user.role.can(API_PERMISSION):
        raise ApiError(403, f"The role {key.user.role.name!r} does not have the "
                            f"{API_PERMISSION!r} permission.", kind="permission")
    if not key_allows(key, API_PERMISSION):
        raise ApiError(403, f"This key's scopes do not include {API_PERMISSION!r}.",
                       kind="permission")
    keys.touch_last_used(key)
    g.caller = ApiCaller(user=key.user, key=key)
    return g.caller


def key_allows(key: ApiKey | keys.VerifiedKey, permission: str) -> bool:
    """The owner's role holds ``permission`` and the key's scopes, when they name
    permissions, include it (other scope words, from older admin-made keys, limit nothing)."""
    limits = [scope for scope in key.scopes or () if scope in PERMISSIONS]
    return key.user.role.can(permission) and (not limits or permission in limits)


def current_caller() -> ApiCaller:
    """The caller authenticated for this request (after :func:`authenticate`)."""
    return g.caller


def count_request() -> None:
    """A ``before_request`` hook, after authentication: count the call against the key's and
    its owner's rate limits (a refusal is answered as a wire error by :mod:`app.api.errors`)."""
    caller = current_caller()
    limits.check_api_request(caller.user, caller.key)
