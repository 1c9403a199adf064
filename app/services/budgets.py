"""Monthly token budgets: each user may spend their role's ``monthly_token_budget`` a month.

Checked before every vendor call (API and chat) from the usage ledger: the tokens the user
spent since the first of the current month (UTC), one indexed aggregate. A role without a
budget is unlimited. The check lets the call that crosses the line finish; the next is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.models import User
from app.repositories import accounts as accounts_repo
from app.repositories import usage as usage_repo


class BudgetExceeded(Exception):
    """The user spent this month's token budget; ``retry_after`` runs to the next month."""

    def __init__(self, budget: int, retry_after: int):
        super().__init__(
            f"You have used this month's token budget of {budget:,} tokens. "
            "It renews on the first of next month (UTC); ask an administrator for more.")
        self.budget = budget
        self.retry_after = retry_after


@dataclass(frozen=True)
class BudgetStatus:
    budget: int | None  # None: no limit
    used: int
    renews: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.used)


def month_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The first instants of this month and the next, in UTC."""
    now = now or datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(
        month=start.month + 1)
    return start, end


def status(user: User) -> BudgetStatus:
    """The user's budget this month, what they used and when it renews."""
    start, end = month_bounds()
    budget = user.role.monthly_token_budget
    return BudgetStatus(budget=budget, used=usage_repo.tokens_of_user_since(user.id, start),
                        renews=end)


def check(user: User) -> None:
    """Raise :class:`BudgetExceeded` when the user has no tokens left this month."""
    if user.role.monthly_token_budget is None:
        return  # no query for the unlimited
    current = status(user)
    if current.remaining == 0:
        wait = int((current.renews - datetime.now(UTC)).total_seconds()) + 1
        raise BudgetExceeded(current.budget, wait)


def check_user_id(user_id: int) -> None:
    """:func:`check` for the user with this id (a missing user has nothing to spend)."""
    user = accounts_repo.user_by_id(user_id)
    if user is not None:
        check(user)
