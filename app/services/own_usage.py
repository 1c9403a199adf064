"""A user's own usage: totals, per day and per model over a date range, summed in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import User
from app.repositories import usage as repo
from app.services.usage_reports import Line, ReportError, UsageFilter, make_filter

__all__ = ["OwnUsage", "ReportError", "report", "make_filter"]


@dataclass(frozen=True)
class OwnUsage:
    filter: UsageFilter
    totals: Line
    days: list[Line]  # every day of the range, empty days included
    models: list[Line]


def report(user: User, flt: UsageFilter) -> OwnUsage:
    args = (flt.start_at, flt.end_at, flt.source)
    by_day = {str(row.key): _line(str(row.key), row)
              for row in repo.aggregate("day", *args, user_id=user.id)}
    return OwnUsage(
        filter=flt,
        totals=_line("Total", repo.totals(*args, user_id=user.id)),
        days=[by_day.get(d.isoformat(), Line(d.isoformat())) for d in flt.days()],
        models=[_line(str(row.key), row) for row in repo.aggregate("model", *args,
                                                                    user_id=user.id)],
    )


def _line(label: str, row) -> Line:
    return Line(label=label, requests=int(row.requests or 0),
                input_tokens=int(row.input_tokens or 0),
                output_tokens=int(row.output_tokens or 0), cost=row.cost or 0,
                errors=int(row.errors or 0), avg_latency_ms=int(row.avg_latency_ms or 0))
