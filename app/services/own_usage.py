"""A user's own usage: totals, per day and per model over a date range, summed in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import User
from app.repositories import usage as repo
from app.services.usage_reports import (
    Line,
    ReportError,
    UsageFilter,
    day_lines,
    line,
    make_filter,
)

__all__ = ["OwnUsage", "ReportError", "report", "make_filter"]


@dataclass(frozen=True)
class OwnUsage:
    filter: UsageFilter
    totals: Line
    days: list[Line]  # every day of the range, empty days included
    models: list[Line]


def report(user: User, flt: UsageFilter) -> OwnUsage:
    """The user's totals, every day of the range and each model they used."""
    args = (flt.start_at, flt.end_at, flt.source)
    return OwnUsage(
        filter=flt,
        totals=line("Total", repo.totals(*args, user_id=user.id)),
        days=day_lines(flt, repo.aggregate("day", *args, user_id=user.id)),
        models=[line(str(row.key), row)
                for row in repo.aggregate("model", *args, user_id=user.id)],
    )
