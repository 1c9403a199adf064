"""``/api/v1/admin/roles``: list, create, read, update (permissions, models, limits), delete;
built-in roles keep their name and cannot be deleted (409)."""

from __future__ import annotations

from app.api import rest
from app.api.admin.shared import actor, not_found, refused
from app.api.errors import ApiError
from app.api.schemas.admin import RoleCreate, RoleOut, RoleUpdate
from app.api.schemas.rest import PageMeta
from app.models import Role
from app.services import roles

bp = rest.admin_blueprint("rest_admin_roles", __name__)
SPEC_FIELDS = ("name", "description", "permissions", "allowed_models", "rate_limit",
               "monthly_token_budget", "monthly_cost_budget")


def role_out(role: Role, counts: dict[int, int]) -> RoleOut:
    return RoleOut(id=role.id, name=role.name, description=role.description or "",
                   builtin=role.builtin, permissions=list(role.permissions or []),
                   allowed_models=role.allowed_models, rate_limit=role.rate_limit,
                   monthly_token_budget=role.monthly_token_budget,
                   monthly_cost_budget=_usd(role.monthly_cost_budget),
                   users=counts.get(role.id, 0), created_at=role.created_at)


def _usd(amount) -> float | None:
    return None if amount is None else float(amount)


def role_or_404(role_id: int) -> Role:
    role = roles.find(role_id)
    if role is None:
        raise not_found("role")
    return role


@bp.get("/roles")
def index():
    counts = roles.user_counts()
    found = [role_out(r, counts) for r in roles.all_roles()]
    return rest.listing(found, PageMeta(page=1, per_page=max(len(found), 1), total=len(found),
                                        has_more=False))


@bp.post("/roles")
def create():
    body = rest.parse_body(RoleCreate)
    try:
        role = roles.create(actor(), roles.RoleSpec(**body.model_dump()))
    except roles.RoleError as exc:
        raise refused(exc) from None
    return rest.data(role_out(role, roles.user_counts()), 201)


@bp.get("/roles/<int:role_id>")
def show(role_id: int):
    return rest.data(role_out(role_or_404(role_id), roles.user_counts()))


@bp.patch("/roles/<int:role_id>")
def update(role_id: int):
    """Change only the fields sent; ``null`` clears allowed_models, rate_limit and budget."""
    role = role_or_404(role_id)
    body = rest.parse_body(RoleUpdate)
    current = {name: getattr(role, name) for name in SPEC_FIELDS}
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    nulled = [n for n in ("name", "description", "permissions") if n in sent and sent[n] is None]
    if nulled:
        raise ApiError(400, f"{nulled[0]}: cannot be null.", param=nulled[0])
    try:
        roles.update(actor(), role, roles.RoleSpec(**{**current, **sent}))
    except roles.RoleError as exc:
        raise refused(exc) from None
    return rest.data(role_out(role, roles.user_counts()))


@bp.delete("/roles/<int:role_id>")
def delete(role_id: int):
    """Delete a custom role nobody holds; a built-in role or one still held: 409."""
    try:
        roles.delete(actor(), role_or_404(role_id))
    except roles.RoleError as exc:
        raise refused(exc, 409) from None
    return rest.no_content()
