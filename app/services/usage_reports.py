"""Usage reports: totals, per day / user / key / model, in SQL GROUP BYs.

Admins see everyone's (here); a user sees their own (services/own_usage.py). Both build their
lines with :func:`line` and :func:`day_lines`, so the figures are the same on every screen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

from app.models.usage_tags import TAG_LENGTH
from app.repositories import accounts as accounts_repo
from app.repositories import teams as teams_repo
from app.repositories import usage as repo
from app.repositories import usage_tags as tags_repo

SOURCES = ("web", "api")
GROUPS = (*tags_repo.GROUPS, "team")
DEFAULT_DAYS = 30
MAX_DAYS = 366 * 2
TOP = 10


class ReportError(ValueError):
    """A report request that cannot be answered (bad dates, unknown grouping)."""


@dataclass(frozen=True)
class UsageFilter:
    start: date  # first day, included
    end: date  # last day, included
    source: str | None = None
    tag: str | None = None  # only the calls carrying this spend tag

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Line:
    """Metrics of one group: a day, a user, a key, a model or the whole range."""

    label: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0  # of input_tokens: read from the vendor's prompt cache
    cache_write_tokens: int = 0  # of input_tokens: written to it
    cost: Decimal = Decimal(0)
    errors: int = 0
    avg_latency_ms: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Report:
    """A range's totals, every day of it (empty days included) and the models used."""

    filter: UsageFilter
    totals: Line
    days: list[Line]
    models: list[Line]
    tags: list[Line] = field(default_factory=list)  # spend by tag (x-parlor-tags)


@dataclass(frozen=True)
class UsageReport(Report):
    """Everyone's report, with the top users and keys too."""

    users: list[Line] = field(default_factory=list)
    keys: list[Line] = field(default_factory=list)
    teams: list[Line] = field(default_factory=list)


def make_filter(start: str | None, end: str | None, source: str | None,
                today: date | None = None, tag: str | None = None) -> UsageFilter:
    """A filter from query-string text; missing dates mean the last 30 days."""
    today = today or datetime.now(UTC).date()
    try:
        end_day = date.fromisoformat(end) if end else today
        start_day = date.fromisoformat(start) if start else end_day - timedelta(
            days=DEFAULT_DAYS - 1)
    except ValueError:
        raise ReportError("Dates are written YYYY-MM-DD.") from None
    if start_day > end_day:
        raise ReportError("The start date is after the end date.")
    if (end_day - start_day).days > MAX_DAYS:
        raise ReportError(f"Choose a range of at most {MAX_DAYS} days.")
    if source and source not in SOURCES:
        raise ReportError(f"The source is one of: {', '.join(SOURCES)}.")
    tag = (tag or "").strip() or None
    if tag is not None and len(tag) > TAG_LENGTH:
        raise ReportError(f"A tag has at most {TAG_LENGTH} characters.")
    return UsageFilter(start=start_day, end=end_day, source=source or None, tag=tag)


def report(flt: UsageFilter, top: int = TOP) -> UsageReport:
    args = (flt.start_at, flt.end_at, flt.source)
    ledger = _ledger(flt)
    return UsageReport(
        filter=flt,
        totals=line("Total", ledger.totals(*args)),
        days=day_lines(flt, ledger.aggregate("day", *args)),
        users=_labelled("user", ledger.aggregate("user", *args, limit=top)),
        keys=_labelled("key", ledger.aggregate("key", *args, limit=top)),
        models=_labelled("model", ledger.aggregate("model", *args, limit=top)),
        tags=_labelled("tag", tags_repo.aggregate("tag", *args, limit=top, tag=flt.tag)),
        teams=_labelled("team", _team_rows(flt, top)),
    )


class _TaggedLedger:
    """The per-tag rollup answering as the ledger does, for a report of one tag's calls."""

    def __init__(self, tag: str | None):
        self.tag = tag

    def totals(self, *args):
        return tags_repo.totals(*args, tag=self.tag)

    def aggregate(self, group, *args, limit=None):
        return tags_repo.aggregate(group, *args, limit=limit, tag=self.tag)


def _ledger(flt: UsageFilter, group: str = ""):
    """Where a report reads: the per-tag rollup for a tag's calls or a breakdown by tag,
    else the daily rollup."""
    return _TaggedLedger(flt.tag) if flt.tag or group == "tag" else repo


def month_totals(now: datetime | None = None) -> Line:
    """This calendar month (UTC) so far."""
    now = now or datetime.now(UTC)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    return line("This month", repo.totals(start, now + timedelta(seconds=1)))


# New columns go last, so a script reading the columns by position keeps working.
CSV_COLUMNS = ("requests", "input_tokens", "output_tokens", "cost", "errors", "avg_latency_ms",
               "cache_read_tokens", "cache_write_tokens")


def breakdown(flt: UsageFilter, group: str) -> list[Line]:
    """Every group of ``group`` (day, user, key, model, source, tag) with usage in the
    range."""
    if group not in GROUPS:
        raise ReportError(f"Group by one of: {', '.join(GROUPS)}.")
    if group == "team":
        return _labelled("team", _team_rows(flt))
    rows = _ledger(flt, group).aggregate(group, flt.start_at, flt.end_at, flt.source)
    return _labelled(group, rows)


METRICS = ("requests", "input_tokens", "output_tokens", "cache_read_tokens",
           "cache_write_tokens", "cost", "errors")


def _team_rows(flt: UsageFilter, limit: int | None = None) -> list:
    """Metrics per team, biggest token users first, the calls of no team (key None) as what
    the totals hold beyond the teams': the ledger is read through its team index, never
    whole (a million rows of calls made outside teams cost nothing)."""
    args = (flt.start_at, flt.end_at, flt.source)
    rows = teams_repo.usage_per_team(*args, tag=flt.tag)
    total = _ledger(flt).totals(*args)
    rest = {name: (getattr(total, name, 0) or 0) - sum(getattr(r, name) or 0 for r in rows)
            for name in METRICS}
    if rest["requests"] > 0:
        latency = (float(getattr(total, "avg_latency_ms", 0) or 0) * float(total.requests or 0)
                   - sum(float(r.avg_latency_ms or 0) * float(r.requests) for r in rows))
        rows.append(SimpleNamespace(key=None, avg_latency_ms=latency / float(rest["requests"]),
                                    **rest))
    rows.sort(key=lambda r: (-((r.input_tokens or 0) + (r.output_tokens or 0)), r.key is None,
                             r.key or 0))
    return rows[:limit] if limit else rows


def totals(flt: UsageFilter) -> Line:
    """Everyone's usage over the range, as one line."""
    return line("Total", _ledger(flt).totals(flt.start_at, flt.end_at, flt.source))


def csv_lines(flt: UsageFilter, group: str) -> Iterator[str]:
    """The report grouped by ``group`` (day, user, key, model, source, tag) as CSV text
    lines."""
    lines = breakdown(flt, group)
    yield _csv_row([group, *CSV_COLUMNS])
    for group_line in lines:
        yield _csv_row([group_line.label, *(getattr(group_line, c) for c in CSV_COLUMNS)])


def _csv_row(values) -> str:
    buffer = io.StringIO()
    # Cells a spreadsheet would run as formulas get a leading quote (CSV injection).
    csv.writer(buffer).writerow(
        ["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in values])
    return buffer.getvalue()


def _labelled(group: str, rows) -> list[Line]:
    if group == "user":
        names = accounts_repo.emails_by_id(r.key for r in rows)
        return [line(names.get(r.key, "(deleted user)") if r.key else "(no user)", r)
                for r in rows]
    if group == "team":
        names = teams_repo.names_by_id(r.key for r in rows)
        return [line(names.get(r.key, "(deleted team)") if r.key else "(no team)", r)
                for r in rows]
    if group == "key":
        names = accounts_repo.key_labels_by_id(r.key for r in rows)
        return [line(names.get(r.key, "(deleted key)") if r.key else "(web, no key)", r)
                for r in rows]
    return [line(str(r.key), r) for r in rows]


def day_lines(flt: UsageFilter, rows) -> list[Line]:
    """A line for every day of the range, in order; days without usage are empty lines."""
    by_day = {str(row.key): line(str(row.key), row) for row in rows}
    return [by_day.get(d.isoformat(), Line(d.isoformat())) for d in flt.days()]


def line(label: str, row) -> Line:
    """The line of one aggregated row (cost rounded to a millionth of a unit)."""
    return Line(label=label, requests=int(row.requests or 0),
                input_tokens=int(row.input_tokens or 0), output_tokens=int(row.output_tokens or 0),
                cache_read_tokens=int(getattr(row, "cache_read_tokens", 0) or 0),
                cache_write_tokens=int(getattr(row, "cache_write_tokens", 0) or 0),
                cost=Decimal(str(row.cost or 0)).quantize(Decimal("0.000001")),
                errors=int(row.errors or 0), avg_latency_ms=int(row.avg_latency_ms or 0))
