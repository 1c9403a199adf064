"""``/api/v1/keys``: the caller's own API keys (list, create — the secret shown once — revoke)."""

from __future__ import annotations

from app.api import rest, rest_auth
from app.api.errors import ApiError
from app.api.schemas.rest import KeyCreate, KeyCreated, KeyOut, PageMeta
from app.models import ApiKey
from app.services import own_keys

bp = rest.blueprint("rest_keys", __name__)


def key_out(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "prefix": key.prefix, "scopes": key.scopes or [],
            "status": own_keys.status(key), "created_at": key.created_at,
            "expires_at": key.expires_at, "revoked_at": key.revoked_at,
            "last_used_at": key.last_used_at}


@bp.get("/keys")
def index():
    """Every key of the caller, newest first, revoked and expired ones included."""
    found = [KeyOut.model_validate(key_out(k))
             for k in own_keys.list_keys(rest_auth.current().user)]
    return rest.listing(found, PageMeta(page=1, per_page=max(len(found), 1), total=len(found),
                                        has_more=False))


@bp.post("/keys")
def create():
    """A new key; its secret is in this answer only. Scopes beyond your role: 403."""
    caller = rest_auth.require(own_keys.OWN_KEYS_PERMISSION)
    body = rest.parse_body(KeyCreate)
    try:
        key, secret = own_keys.create(caller.user, name=body.name,
                                      scopes=list(body.scopes),
                                      expires_days=body.expires_in_days, via=caller.key)
    except own_keys.ScopeError as exc:
        raise ApiError(403, str(exc), kind="permission") from None
    response = rest.data(KeyCreated.model_validate({**key_out(key), "secret": secret}), 201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/keys/<key_ref>")
def revoke(key_ref: str):
    """Revoke one of your keys, by id or prefix (another user's key: 404)."""
    try:
        own_keys.revoke(rest_auth.current().user, key_ref)
    except own_keys.NoSuchKey as exc:
        raise ApiError(404, str(exc)) from None
    return rest.no_content()
