"""Admins set monthly budgets in US dollars on users and API keys (roles: services/roles.py);
enforced beside the token budgets by services/budgets.py."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from app.extensions import db
from app.models import ApiKey, User
from app.services import audit
from app.services.actor import Actor
from app.services.roles import MAX_COST_BUDGET


class CostBudgetError(ValueError):
    """A dollar budget that cannot be stored (shown to the admin as is)."""


def parse_usd(value) -> Decimal | None:
    """An amount of US dollars, 0 up to MAX_COST_BUDGET, to a hundredth of a cent; None stays
    None (no budget of its own)."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise CostBudgetError("The monthly dollar budget is an amount such as 25 or 12.50."
                              ) from None
    if isinstance(value, bool) or not amount.is_finite() or not 0 <= amount < MAX_COST_BUDGET:
        raise CostBudgetError(f"The monthly dollar budget is 0 to {MAX_COST_BUDGET - 1:,} "
                              "US dollars (empty: none of its own).")
    return amount.quantize(Decimal("0.0001"))


def set_user_cost_budget(actor: Actor, user: User, usd) -> User:
    """Give ``user`` their own monthly dollar budget, overriding their role's (None: the
    role's again); audited."""
    amount = parse_usd(usd)
    before = user.monthly_cost_budget
    if before != amount:
        user.monthly_cost_budget = amount
        audit.record("user.cost_budget_changed", actor_id=actor.user_id, ip=actor.ip,
                     target=f"user:{user.email}", before=_text(before), after=_text(amount))
        db.session.commit()
    return user


def set_key_cost_budget(actor: Actor, key: ApiKey, usd) -> ApiKey:
    """Cap the dollars spent through ``key`` a month (None: no cap of its own); audited."""
    amount = parse_usd(usd)
    before = key.monthly_cost_budget
    if before != amount:
        key.monthly_cost_budget = amount
        audit.record("key.cost_budget_changed", actor_id=actor.user_id, ip=actor.ip,
                     target=f"key:{key.prefix}", owner=key.user.email, before=_text(before),
                     after=_text(amount))
        db.session.commit()
    return key


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)
