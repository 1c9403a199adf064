"""``/api/v1/me``: the caller's own account (only the display name can be changed here)."""

from __future__ import annotations

from app.api import rest, rest_auth
from app.api.errors import ApiError
from app.api.schemas.rest import (
    MeUpdate,
    MonthlyBudget,
    MonthlyCostBudget,
    TeamBudget,
    UserOut,
)
from app.models import ApiKey, User
from app.services import budgets, profile
from app.services.accounts import AccountError

bp = rest.blueprint("rest_me", __name__)


def user_out(user: User, key: ApiKey | None = None) -> UserOut:
    return UserOut(id=user.id, email=user.email, display_name=user.display_name,
                   role=user.role.name, permissions=list(user.role.permissions or []),
                   created_at=user.created_at, last_login_at=user.last_login_at,
                   budget=budget_out(budgets.status(user)),
                   key_budget=budget_out(budgets.key_status(key)) if key else None,
                   cost_budget=cost_budget_out(budgets.cost_status(user)),
                   key_cost_budget=cost_budget_out(budgets.key_cost_status(key)) if key else None,
                   team=team_out(budgets.team_status(user, key)))


def team_out(status: budgets.TeamStatus | None) -> TeamBudget | None:
    if status is None:
        return None
    return TeamBudget(name=status.name, budget=budget_out(status.tokens),
                      cost_budget=cost_budget_out(status.dollars))


def budget_out(status: budgets.BudgetStatus) -> MonthlyBudget:
    return MonthlyBudget(tokens=status.budget, source=status.source, used=status.used,
                         remaining=status.remaining, renews=status.renews)


def cost_budget_out(status: budgets.CostStatus) -> MonthlyCostBudget:
    def usd(amount):
        return None if amount is None else float(amount)

    return MonthlyCostBudget(usd=usd(status.budget), source=status.source,
                             used=float(status.used), remaining=usd(status.remaining),
                             renews=status.renews)


@bp.get("/me")
def show():
    """The caller's account, with this month's budgets in tokens and in dollars (and the
    calling key's)."""
    caller = rest_auth.current()
    return rest.data(user_out(caller.user, caller.key))


@bp.patch("/me")
def update():
    """Change the display name; any other field (role, email, id...) is refused with 400."""
    body = rest.parse_body(MeUpdate)
    user = rest_auth.current().user
    if body.display_name is not None:
        try:
            profile.rename(user, body.display_name)
        except AccountError as exc:
            raise ApiError(400, str(exc), param="display_name") from None
    return rest.data(user_out(user, rest_auth.current().key))
