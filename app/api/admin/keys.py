"""``/api/v1/admin/keys``: every API key (filter by owner), create one for a user (the secret
shown once), set its monthly token budget, revoke any — audited like /admin/keys."""

from __future__ import annotations

from app.api import rest
from app.api.admin.shared import actor, not_found, page_items, refused
from app.api.errors import ApiError
from app.api.schemas.admin import (
    AdminKeyCreate,
    AdminKeyCreated,
    AdminKeyOut,
    AdminKeyUpdate,
    KeyQuery,
)
from app.models import ApiKey
from app.services import admin_keys, admin_users, cost_budgets, own_keys, teams

bp = rest.admin_blueprint("rest_admin_keys", __name__)


def key_out(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "prefix": key.prefix, "scopes": key.scopes or [],
            "status": own_keys.status(key), "created_at": key.created_at,
            "expires_at": key.expires_at, "revoked_at": key.revoked_at,
            "last_used_at": key.last_used_at, "user_id": key.user_id, "owner": key.user.email,
            "rate_limit": key.rate_limit, "monthly_token_budget": key.monthly_token_budget,
            "monthly_cost_budget": None if key.monthly_cost_budget is None
            else float(key.monthly_cost_budget), "team_id": key.team_id,
            "response_cache_ttl": key.response_cache_ttl}


@bp.get("/keys")
def index():
    """Every key, newest first; ``owner`` matches a part of the owner's e-mail."""
    query = rest.parse_query(KeyQuery)
    rows, meta = page_items(admin_keys.listing(query.owner.strip(), page=query.page,
                                               per_page=query.per_page), query)
    return rest.listing([AdminKeyOut.model_validate(key_out(k)) for k in rows], meta)


@bp.post("/keys")
def create():
    """A new key for a user; its secret is in this answer only."""
    body = rest.parse_body(AdminKeyCreate)
    owner = admin_users.find(body.user_id)
    if owner is None:
        raise refused(admin_keys.KeyRequestError("There is no user with that id.", "user_id"))
    try:
        key, secret = admin_keys.create(
            actor(), email=owner.email, name=body.name,
            scopes=admin_keys.parse_scopes(" ".join(body.scopes)),
            expires_days=body.expires_in_days, rate_limit=body.rate_limit,
            monthly_token_budget=body.monthly_token_budget)
    except admin_keys.KeyRequestError as exc:
        raise refused(exc) from None
    response = rest.data(AdminKeyCreated.model_validate({**key_out(key), "secret": secret}), 201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.patch("/keys/<int:key_id>")
def update(key_id: int):
    """Change only the fields sent: the key's monthly token or dollar budget (``null``: no
    cap)."""
    key = key_or_404(key_id)
    body = rest.parse_body(AdminKeyUpdate)
    try:
        if "monthly_token_budget" in body.model_fields_set:
            admin_keys.set_budget(actor(), key, body.monthly_token_budget)
        if "monthly_cost_budget" in body.model_fields_set:
            cost_budgets.set_key_cost_budget(actor(), key, body.monthly_cost_budget)
        if "team_id" in body.model_fields_set:
            team = None if body.team_id is None else teams.find(body.team_id)
            if body.team_id is not None and team is None:
                raise ApiError(400, "team_id: there is no such team.", param="team_id")
            teams.set_key_team(actor(), key, team)
        if "response_cache_ttl" in body.model_fields_set:
            admin_keys.set_response_cache(actor(), key, body.response_cache_ttl)
    except (admin_keys.KeyRequestError, cost_budgets.CostBudgetError) as exc:
        raise refused(exc) from None
    return rest.data(AdminKeyOut.model_validate(key_out(key)))


def key_or_404(key_id: int) -> ApiKey:
    key = admin_keys.find(key_id)
    if key is None:
        raise not_found("key")
    return key


@bp.delete("/keys/<int:key_id>")
def revoke(key_id: int):
    """Revoke a key (revoking a revoked key changes nothing)."""
    admin_keys.revoke(actor(), key_or_404(key_id))
    return rest.no_content()
