"""Spend by tag: the per-day-and-tag rollup of the ledger (``usage_daily_tags``), written
beside ``usage_daily`` in the same transaction, and its aggregates (same rows and columns as
``repositories/usage.py``'s, for the reports)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import UsageDailyTag

GROUPS = ("day", "user", "key", "model", "source", "tag")
_KEY = ("day", "tag", "user_id", "api_key_id", "model", "source")
_SUMS = ("requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens",
         "cache_write_tokens", "cost", "latency_ms_total")


def split(tags: str | None) -> list[str]:
    """The tags of a ledger row's ``tags`` column."""
    return [tag for tag in (tags or "").split(",") if tag]


def roll_up(connection: Connection, daily_increments: list[dict], tags: list[str]) -> None:
    """Add each ledger row's ``usage_daily`` increment under each of its tags (``tags[i]``
    is the i-th row's column)."""
    rows: dict[tuple, dict] = {}
    for increment, row_tags in zip(daily_increments, tags, strict=True):
        for tag in split(row_tags):
            row = {**increment, "tag": tag}
            key = tuple(row[name] for name in _KEY)
            if key in rows:
                for name in _SUMS:
                    rows[key][name] += row[name]
            else:
                rows[key] = row
    if rows:
        connection.execute(_upsert_statement(connection.dialect.name), list(rows.values()))


@lru_cache(maxsize=2)
def _upsert_statement(dialect: str):
    table = UsageDailyTag.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in _KEY],
        set_={name: table.c[name] + statement.excluded[name] for name in _SUMS},
    )


def _day_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def _group_key(group: str):
    table = UsageDailyTag
    return {
        "day": lambda: table.day,
        "user": lambda: func.nullif(table.user_id, 0),
        "key": lambda: func.nullif(table.api_key_id, 0),
        "model": lambda: table.model,
        "source": lambda: table.source,
        "tag": lambda: table.tag,
    }[group]()


def _metrics() -> tuple:
    t = UsageDailyTag
    requests = func.coalesce(func.sum(t.requests), 0)
    return (
        requests.label("requests"),
        func.coalesce(func.sum(t.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(t.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(t.cache_read_tokens), 0).label("cache_read_tokens"),
        func.coalesce(func.sum(t.cache_write_tokens), 0).label("cache_write_tokens"),
        func.coalesce(func.sum(t.input_tokens + t.output_tokens), 0).label("tokens"),
        func.coalesce(func.sum(t.cost), 0).label("cost"),
        func.coalesce(func.sum(t.errors), 0).label("errors"),
        func.coalesce(func.sum(t.latency_ms_total) * 1.0 / func.nullif(requests, 0), 0)
        .label("avg_latency_ms"),
    )


def _filtered(statement: Select, start: datetime, end: datetime, source: str | None,
              tag: str | None, user_id: int | None = None) -> Select:
    t = UsageDailyTag
    statement = statement.where(t.day >= _day_text(start), t.day < _day_text(end))
    if source:
        statement = statement.where(t.source == source)
    if tag:
        statement = statement.where(t.tag == tag)
    if user_id is not None:
        statement = statement.where(t.user_id == user_id)
    return statement


def totals(start: datetime, end: datetime, source: str | None = None, *,
           tag: str | None = None, user_id: int | None = None):
    """One row of metrics over the range, of the calls tagged ``tag`` (all tagged calls,
    each counted once per tag, without one); ``user_id`` keeps one user's calls only."""
    return db.session.execute(
        _filtered(select(*_metrics()), start, end, source, tag, user_id)).one()


def aggregate(group: str, start: datetime, end: datetime, source: str | None = None,
              limit: int | None = None, *, tag: str | None = None,
              user_id: int | None = None) -> list:
    """Metrics per ``group`` (one of GROUPS) of tagged calls, as ``usage.aggregate``."""
    key = _group_key(group).label("key")
    t = UsageDailyTag
    statement = _filtered(select(key, *_metrics()), start, end, source, tag,
                          user_id).group_by(key)
    if group == "day":
        statement = statement.order_by(key)
    else:
        statement = statement.order_by(func.sum(t.input_tokens + t.output_tokens).desc(), key)
    if limit:
        statement = statement.limit(limit)
    return list(db.session.execute(statement))


def rebuild(connection: Connection, rollup_row, batch: int = 5_000) -> None:
    """Recompute the per-tag rollup from the ledger's tagged rows (after a bulk load), in
    batches; ``rollup_row`` makes a row's ``usage_daily`` increment."""
    from app.models import UsageRecord  # the ledger's table, read in id order

    connection.execute(UsageDailyTag.__table__.delete())
    records = UsageRecord.__table__
    last = 0
    while True:
        rows = connection.execute(select(records).where(
            records.c.tags != "", records.c.id > last).order_by(records.c.id).limit(batch)).all()
        if not rows:
            return
        roll_up(connection, [rollup_row(row) for row in rows], [row.tags for row in rows])
        last = rows[-1].id
