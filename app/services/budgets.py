"""Monthly budgets, in tokens and in US dollars: per user (their own, else their role's) and
per API key. The two units are independent: each applies when set, and either one spent
refuses the next call.

A user may spend their effective budget a month: the one an admin set on the user, else
their role's ``monthly_token_budget``. A key's budget caps what is spent through that key, on
top of its owner's. Checked before every vendor call (API and chat) from the usage rollup:
the tokens spent since the first of the current month (UTC), one indexed aggregate per budget
that applies, none when no budget applies. The check lets the call that crosses the line
finish; the next is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from app.models import ApiKey, User
from app.repositories import accounts as accounts_repo
from app.repositories import teams as teams_repo
from app.repositories import usage as usage_repo
from app.repositories import usage_costs

if TYPE_CHECKING:
    from app.services.keys import KeyOwner, VerifiedKey

USER, ROLE, KEY, TEAM = "user", "role", "key", "team"  # where a budget comes from


class BudgetExceeded(Exception):
    """This month's token budget is spent; ``scope`` says whose ("user" or "key") and
    ``retry_after`` runs to the next month."""

    def __init__(self, budget: int | Decimal, retry_after: int, scope: str = USER,
                 unit: str = "tokens"):
        if scope == TEAM:
            amount = f"${budget:,.2f}" if unit == "usd" else f"{budget:,} tokens"
            spent = (f"Your team has used its monthly budget of {amount}. It renews on the "
                     "first of next month (UTC); ask an administrator for more.")
        elif unit == "usd":
            amount = f"${budget:,.2f}"
            whose = ("This API key has used its monthly budget of " if scope == KEY
                     else "You have used this month's budget of ")
            spent = (f"{whose}{amount}. It renews on the first of next month (UTC); "
                     + ("use another key or ask an administrator for more." if scope == KEY
                        else "ask an administrator for more."))
        elif scope == KEY:
            spent = (f"This API key has used its monthly token budget of {budget:,} tokens. "
                     "It renews on the first of next month (UTC); use another key or ask an "
                     "administrator for more.")
        else:
            spent = (f"You have used this month's token budget of {budget:,} tokens. "
                     "It renews on the first of next month (UTC); ask an administrator for "
                     "more.")
        super().__init__(spent)
        self.budget = budget
        self.retry_after = retry_after
        self.scope = scope
        self.unit = unit


@dataclass(frozen=True)
class BudgetStatus:
    budget: int | None  # None: no limit
    used: int
    renews: datetime
    source: str | None = None  # USER, ROLE or KEY; None: no limit

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.used)


@dataclass(frozen=True)
class CostStatus:
    """A dollar budget this month: ``budget`` None is no limit."""

    budget: Decimal | None
    used: Decimal
    renews: datetime
    source: str | None = None  # USER, ROLE or KEY; None: no limit

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else max(Decimal(0), self.budget - self.used)


def month_bounds() -> tuple[datetime, datetime]:
    """The first instants of this month and the next, in UTC."""
    start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(
        month=start.month + 1)
    return start, end


def effective_budget(user: User | KeyOwner) -> tuple[int | None, str | None]:
    """The user's monthly budget and where it comes from: their own, else their role's."""
    if user.monthly_token_budget is not None:
        return user.monthly_token_budget, USER
    if user.role.monthly_token_budget is not None:
        return user.role.monthly_token_budget, ROLE
    return None, None


def effective_cost_budget(user: User | KeyOwner) -> tuple[Decimal | None, str | None]:
    """The user's monthly dollar budget and where it comes from: their own, else their
    role's."""
    if getattr(user, "monthly_cost_budget", None) is not None:
        return Decimal(user.monthly_cost_budget), USER
    if getattr(user.role, "monthly_cost_budget", None) is not None:
        return Decimal(user.role.monthly_cost_budget), ROLE
    return None, None


def cost_status(user: User) -> CostStatus:
    """The user's dollar budget this month, what their calls cost and when it renews."""
    start, end = month_bounds()
    budget, source = effective_cost_budget(user)
    return CostStatus(budget=budget, used=usage_costs.cost_of_user_since(user.id, start),
                      renews=end, source=source)


def key_cost_status(key: ApiKey) -> CostStatus:
    """The key's own dollar budget this month (None: no cap) and what its calls cost."""
    start, end = month_bounds()
    budget = key.monthly_cost_budget
    return CostStatus(budget=budget,
                      used=usage_costs.cost_of_key_since(key.user_id, key.id, start),
                      renews=end, source=None if budget is None else KEY)


def key_cost_statuses(user: User, keys: list[ApiKey]) -> dict[int, CostStatus]:
    """:func:`key_cost_status` of each of ``user``'s ``keys``, in one query."""
    start, end = month_bounds()
    used = usage_costs.cost_per_key_of_user_since(user.id, start)
    return {key.id: CostStatus(budget=key.monthly_cost_budget,
                               used=used.get(key.id, Decimal(0)), renews=end,
                               source=None if key.monthly_cost_budget is None else KEY)
            for key in keys}


def status(user: User) -> BudgetStatus:
    """The user's effective budget this month, what they used and when it renews."""
    start, end = month_bounds()
    budget, source = effective_budget(user)
    return BudgetStatus(budget=budget, used=usage_repo.tokens_of_user_since(user.id, start),
                        renews=end, source=source)


def key_status(key: ApiKey) -> BudgetStatus:
    """The key's budget this month (None: no cap of its own) and what was spent through it."""
    start, end = month_bounds()
    budget = key.monthly_token_budget
    return BudgetStatus(budget=budget,
                        used=usage_repo.tokens_of_key_since(key.user_id, key.id, start),
                        renews=end, source=None if budget is None else KEY)


def key_statuses(user: User, keys: list[ApiKey]) -> dict[int, BudgetStatus]:
    """:func:`key_status` of each of ``user``'s ``keys``, in one query."""
    start, end = month_bounds()
    used = usage_repo.tokens_per_key_of_user_since(user.id, start)
    return {key.id: BudgetStatus(budget=key.monthly_token_budget, used=used.get(key.id, 0),
                                 renews=end,
                                 source=None if key.monthly_token_budget is None else KEY)
            for key in keys}


def check(user: User | KeyOwner, key: ApiKey | VerifiedKey | None = None) -> None:
    """Raise :class:`BudgetExceeded` when the user, or the key they call with, has no tokens
    left this month. No query when neither has a budget."""
    budget, _source = effective_budget(user)
    if budget is not None:
        start, end = month_bounds()
        if usage_repo.tokens_of_user_since(user.id, start) >= budget:
            raise BudgetExceeded(budget, _seconds_until(end), USER)
    key_budget = key.monthly_token_budget if key is not None else None
    if key_budget is not None:
        start, end = month_bounds()
        if usage_repo.tokens_of_key_since(key.user_id, key.id, start) >= key_budget:
            raise BudgetExceeded(key_budget, _seconds_until(end), KEY)
    _check_cost(user, key)
    _check_team(team_id_of(user, key))


@dataclass(frozen=True)
class TeamStatus:
    """A team's budgets this month, in both units, and what its calls spent."""

    name: str
    tokens: BudgetStatus
    dollars: CostStatus


def team_status(user: User | KeyOwner, key: ApiKey | VerifiedKey | None = None
                ) -> TeamStatus | None:
    """The budgets of the team the caller's calls count towards (None: no team)."""
    team_id = team_id_of(user, key)
    team = teams_repo.by_id(team_id) if team_id else None
    if team is None:
        return None
    start, end = month_bounds()
    tokens, cost = teams_repo.spent_since(team.id, start)
    token_budget, cost_budget = team.monthly_token_budget, team.monthly_cost_budget
    return TeamStatus(
        name=team.name,
        tokens=BudgetStatus(budget=token_budget, used=tokens, renews=end,
                            source=None if token_budget is None else TEAM),
        dollars=CostStatus(budget=None if cost_budget is None else Decimal(cost_budget),
                           used=cost, renews=end, source=None if cost_budget is None else TEAM))


def team_id_of(user: User | KeyOwner | None, key: ApiKey | VerifiedKey | None) -> int | None:
    """The team a call counts towards: its key's (a team's service key), else its user's."""
    return getattr(key, "team_id", None) or getattr(user, "team_id", None)


def _check_team(team_id: int | None) -> None:
    """The team's token and dollar budgets: one query when the team has either."""
    team = teams_repo.by_id(team_id) if team_id else None
    if team is None or (team.monthly_token_budget is None and team.monthly_cost_budget is None):
        return
    start, end = month_bounds()
    tokens, cost = teams_repo.spent_since(team.id, start)
    if team.monthly_token_budget is not None and tokens >= team.monthly_token_budget:
        raise BudgetExceeded(team.monthly_token_budget, _seconds_until(end), TEAM)
    if team.monthly_cost_budget is not None and cost >= team.monthly_cost_budget:
        raise BudgetExceeded(Decimal(team.monthly_cost_budget), _seconds_until(end), TEAM,
                             unit="usd")


def _check_cost(user: User | KeyOwner, key: ApiKey | VerifiedKey | None) -> None:
    """The dollar budgets' part of :func:`check`: no query when neither has one."""
    budget, _source = effective_cost_budget(user)
    if budget is not None:
        start, end = month_bounds()
        if usage_costs.cost_of_user_since(user.id, start) >= budget:
            raise BudgetExceeded(budget, _seconds_until(end), USER, unit="usd")
    key_budget = getattr(key, "monthly_cost_budget", None) if key is not None else None
    if key_budget is not None:
        start, end = month_bounds()
        if usage_costs.cost_of_key_since(key.user_id, key.id, start) >= key_budget:
            raise BudgetExceeded(Decimal(key_budget), _seconds_until(end), KEY, unit="usd")


def check_caller(user_id: int, api_key_id: int | None = None, *,
                 user: User | KeyOwner | None = None,
                 key: ApiKey | VerifiedKey | None = None) -> None:
    """:func:`check` for a gateway caller: the user and key already loaded when given, else
    loaded by id (a missing user has nothing to spend)."""
    user = user if user is not None else accounts_repo.user_by_id(user_id)
    if user is None:
        return
    if key is None and api_key_id is not None:
        key = accounts_repo.key_by_id(api_key_id)
    check(user, key)


def _seconds_until(moment: datetime) -> int:
    return int((moment - datetime.now(UTC)).total_seconds()) + 1
