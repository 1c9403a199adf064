"""``/api/v1/admin/users``: list and search, create, read, update (name, role, enabled),
reset a password, delete — through the same services and audit events as /admin/users."""

from __future__ import annotations

from app.api import rest
from app.api.admin.shared import actor, not_found, page_items, refused
from app.api.schemas.admin import (
    AdminUserCreate,
    AdminUserOut,
    AdminUserUpdate,
    PasswordReset,
    UserQuery,
)
from app.models import User
from app.services import admin_users, cost_budgets
from app.services.accounts import AccountError

bp = rest.admin_blueprint("rest_admin_users", __name__)


def user_out(user: User) -> AdminUserOut:
    return AdminUserOut(id=user.id, email=user.email, display_name=user.display_name,
                        role=user.role.name, enabled=user.is_enabled,
                        created_at=user.created_at, last_login_at=user.last_login_at,
                        monthly_token_budget=user.monthly_token_budget,
                        monthly_cost_budget=None if user.monthly_cost_budget is None
                        else float(user.monthly_cost_budget), team_id=user.team_id)


def user_or_404(user_id: int) -> User:
    user = admin_users.find(user_id)
    if user is None:
        raise not_found("user")
    return user


@bp.get("/users")
def index():
    """Users by e-mail, a page at a time; ``q`` matches a part of the e-mail or name."""
    query = rest.parse_query(UserQuery)
    found = admin_users.search(query.q.strip(), query.page, query.per_page)
    rows, meta = page_items(found, query)
    return rest.listing([user_out(u) for u in rows], meta)


@bp.post("/users")
def create():
    body = rest.parse_body(AdminUserCreate)
    try:
        user = admin_users.create(actor(), email=body.email, password=body.password,
                                  role=body.role, display_name=body.display_name)
    except AccountError as exc:
        raise refused(exc) from None
    return rest.data(user_out(user), 201)


@bp.get("/users/<int:user_id>")
def show(user_id: int):
    return rest.data(user_out(user_or_404(user_id)))


@bp.patch("/users/<int:user_id>")
def update(user_id: int):
    """Change the display name, the role, whether the account is enabled or the user's own
    monthly token or dollar budget (``null``: the role's again)."""
    user = user_or_404(user_id)
    body = rest.parse_body(AdminUserUpdate)
    try:
        if body.display_name is not None:
            admin_users.rename(actor(), user, body.display_name)
        if body.role is not None:
            admin_users.change_role(actor(), user, body.role)
        if body.enabled is not None:
            admin_users.set_enabled(actor(), user, body.enabled)
        if "monthly_token_budget" in body.model_fields_set:
            admin_users.set_budget(actor(), user, body.monthly_token_budget)
        if "monthly_cost_budget" in body.model_fields_set:
            cost_budgets.set_user_cost_budget(actor(), user, body.monthly_cost_budget)
    except (AccountError, cost_budgets.CostBudgetError) as exc:
        raise refused(exc) from None
    return rest.data(user_out(user))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    """Set a new password: the user's sessions end (and their keys, with revoke_keys)."""
    user = user_or_404(user_id)
    body = rest.parse_body(PasswordReset)
    try:
        admin_users.reset_password(actor(), user, body.password, revoke_keys=body.revoke_keys)
    except AccountError as exc:
        raise refused(exc) from None
    return rest.no_content()


@bp.delete("/users/<int:user_id>")
def delete(user_id: int):
    """Delete the user with their conversations and keys (not yourself, not the last admin)."""
    try:
        admin_users.delete(actor(), user_or_404(user_id))
    except AccountError as exc:
        raise refused(exc, 409) from None
    return rest.no_content()
