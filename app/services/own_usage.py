"""A user's own usage: totals, per day and per model over a date range, summed in SQL."""

from __future__ import annotations

from app.models import User
from app.repositories import usage as repo
from app.services.usage_reports import (
    Report,
    ReportError,
    UsageFilter,
    day_lines,
    line,
    make_filter,
)

__all__ = ["ReportError", "report", "make_filter"]


def report(user: User, flt: UsageFilter) -> Report:
    """The user's totals, every day of the range and each model they used."""
    args = (flt.start_at, flt.end_at, flt.source)
    return Report(
        filter=flt,
        totals=line("Total", repo.totals(*args, user_id=user.id)),
        days=day_lines(flt, repo.aggregate("day", *args, user_id=user.id)),
        models=[line(str(row.key), row)
                for row in repo.aggregate("model", *args, user_id=user.id)],
    )
