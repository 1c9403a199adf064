"""A user's own usage: totals, per day, per model and per spend tag over a date range, summed in
SQL; with a tag in the filter, only the calls carrying it."""

from __future__ import annotations

from app.models import User
from app.repositories import usage as repo
from app.repositories import usage_tags as tags_repo
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
    """The user's totals, every day of the range, each model they used and each tag."""
    args = (flt.start_at, flt.end_at, flt.source)
    mine = {"user_id": user.id}
    ledger = repo
    if flt.tag:  # the per-tag rollup holds what a tag's calls spent
        ledger, mine = tags_repo, {**mine, "tag": flt.tag}
    return Report(
        filter=flt,
        totals=line("Total", ledger.totals(*args, **mine)),
        days=day_lines(flt, ledger.aggregate("day", *args, **mine)),
        models=[line(str(row.key), row) for row in ledger.aggregate("model", *args, **mine)],
        tags=[line(str(row.key), row) for row in tags_repo.aggregate(
            "tag", *args, user_id=user.id, tag=flt.tag)],
    )
