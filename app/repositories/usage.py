"""Writes and aggregates over the usage ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from types import SimpleNamespace

from flask import Flask
from sqlalchemy import Connection, Select, case, delete, event, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import UsageDaily, UsageRecord
from app.repositories import usage_tags

GROUPS = ("day", "user", "key", "model", "source")


def add(record: UsageRecord) -> None:
    db.session.add(record)


def tokens_of_user_since(user_id: int, start: datetime) -> int:
    """Input plus output tokens the user spent since ``start``, a UTC midnight (from the
    daily rollup: a few rows however busy the user is)."""
    spent = func.coalesce(func.sum(UsageDaily.input_tokens + UsageDaily.output_tokens), 0)
    return int(db.session.scalar(select(spent).where(
        UsageDaily.user_id == user_id, UsageDaily.day >= _day_text(start))) or 0)


def tokens_of_key_since(user_id: int, key_id: int, start: datetime) -> int:
    """Input plus output tokens spent through the key since ``start``, a UTC midnight (from
    the daily rollup; the owner's id keeps it on the per-user index)."""
    spent = func.coalesce(func.sum(UsageDaily.input_tokens + UsageDaily.output_tokens), 0)
    return int(db.session.scalar(select(spent).where(
        UsageDaily.user_id == user_id, UsageDaily.api_key_id == key_id,
        UsageDaily.day >= _day_text(start))) or 0)


def tokens_per_key_of_user_since(user_id: int, start: datetime) -> dict[int, int]:
    """Tokens spent through each of the user's keys since ``start`` (keys with none left out),
    in one GROUP BY over the rollup."""
    spent = func.sum(UsageDaily.input_tokens + UsageDaily.output_tokens)
    rows = db.session.execute(select(UsageDaily.api_key_id, spent).where(
        UsageDaily.user_id == user_id, UsageDaily.api_key_id != 0,
        UsageDaily.day >= _day_text(start)).group_by(UsageDaily.api_key_id))
    return {key_id: int(tokens or 0) for key_id, tokens in rows}


def _day_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def _group_key(group: str):
    return {
        "day": lambda: UsageDaily.day,
        "user": lambda: func.nullif(UsageDaily.user_id, 0),
        "key": lambda: func.nullif(UsageDaily.api_key_id, 0),
        "model": lambda: UsageDaily.model,
        "source": lambda: UsageDaily.source,
    }[group]()


def _metrics() -> tuple:
    requests = func.coalesce(func.sum(UsageDaily.requests), 0)
    return (
        requests.label("requests"),
        func.coalesce(func.sum(UsageDaily.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(UsageDaily.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(UsageDaily.cache_read_tokens), 0).label("cache_read_tokens"),
        func.coalesce(func.sum(UsageDaily.cache_write_tokens), 0).label("cache_write_tokens"),
        func.coalesce(func.sum(UsageDaily.input_tokens + UsageDaily.output_tokens), 0)
        .label("tokens"),
        func.coalesce(func.sum(UsageDaily.cost), 0).label("cost"),
        func.coalesce(func.sum(UsageDaily.errors), 0).label("errors"),
        func.coalesce(func.sum(UsageDaily.latency_ms_total) * 1.0 / func.nullif(requests, 0), 0)
        .label("avg_latency_ms"),
    )


def _filtered(statement: Select, start: datetime, end: datetime, source: str | None,
              user_id: int | None = None) -> Select:
    """Rows of the days from ``start`` up to ``end`` (both UTC midnights, end excluded)."""
    statement = statement.where(UsageDaily.day >= _day_text(start),
                                UsageDaily.day < _day_text(end))
    if source:
        statement = statement.where(UsageDaily.source == source)
    if user_id is not None:
        statement = statement.where(UsageDaily.user_id == user_id)
    return statement


def totals(start: datetime, end: datetime, source: str | None = None, *,
           user_id: int | None = None):
    """One row of metrics over the range (of one user's calls with ``user_id``)."""
    return db.session.execute(
        _filtered(select(*_metrics()), start, end, source, user_id)).one()


def aggregate(group: str, start: datetime, end: datetime, source: str | None = None,
              limit: int | None = None, *, user_id: int | None = None) -> list:
    """Metrics per ``group`` (one of GROUPS) in one GROUP BY: days in order, the others
    biggest token users first. Each row has ``key`` and the metric columns. ``user_id``
    keeps one user's calls only."""
    key = _group_key(group).label("key")
    statement = _filtered(select(key, *_metrics()), start, end, source,
                          user_id).group_by(key)
    if group == "day":
        statement = statement.order_by(key)
    else:
        statement = statement.order_by(func.sum(
            UsageDaily.input_tokens + UsageDaily.output_tokens).desc(), key)
    if limit:
        statement = statement.limit(limit)
    return list(db.session.execute(statement))


# -- the daily rollup, kept in step with the ledger -----------------------------------------

_ROLLUP_KEY = ("day", "user_id", "api_key_id", "model", "source")
_ROLLUP_SUMS = ("requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens",
                "cache_write_tokens", "cost", "latency_ms_total")


def _rollup_row(record) -> dict:
    """The rollup increment of one ledger row (a UsageRecord, or its column dict as ``ns``)."""
    return {
        "day": _day_text(record.created_at), "user_id": record.user_id or 0,
        "api_key_id": record.api_key_id or 0, "model": record.model, "source": record.source,
        "requests": 1, "errors": 1 if record.status == "error" else 0,
        "input_tokens": record.input_tokens or 0, "output_tokens": record.output_tokens or 0,
        "cache_read_tokens": getattr(record, "cache_read_tokens", 0) or 0,
        "cache_write_tokens": getattr(record, "cache_write_tokens", 0) or 0,
        "cost": record.cost or 0, "latency_ms_total": record.latency_ms or 0,
    }


def _merged(increments: list[dict]) -> list[dict]:
    """Increments of the same rollup row summed: one upsert per row a batch touches."""
    merged: dict[tuple, dict] = {}
    for row in increments:
        key = tuple(row[name] for name in _ROLLUP_KEY)
        if key in merged:
            for name in _ROLLUP_SUMS:
                merged[key][name] += row[name]
        else:
            merged[key] = dict(row)
    return list(merged.values())


def write_batch(connection: Connection, rows: list[dict]) -> None:
    """Insert ledger rows (column dicts of ``usage_records``) and add them to the rollup, on
    ``connection`` in its transaction: what the usage writer sends in one go."""
    connection.execute(insert(UsageRecord.__table__), rows)
    increments = [_rollup_row(SimpleNamespace(**row)) for row in rows]
    _upsert(connection, _merged(increments))
    usage_tags.roll_up(connection, increments, [row.get("tags", "") for row in rows])


@lru_cache(maxsize=2)
def _upsert_statement(dialect: str):
    """Built once per dialect: constructing it costs more than running it (~0.6 ms)."""
    table = UsageDaily.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in _ROLLUP_KEY],
        set_={name: table.c[name] + statement.excluded[name] for name in _ROLLUP_SUMS},
    )


def _upsert(connection: Connection, rows: list[dict]) -> None:
    connection.execute(_upsert_statement(connection.dialect.name), rows)


def init_app(app: Flask) -> None:
    """Keep the daily rollup in step with the ledger: a listener on Parlor's sessions (added
    once per process) for every ledger row the ORM writes."""
    if not event.contains(db.session, "after_flush", _roll_up_new_records):
        event.listen(db.session, "after_flush", _roll_up_new_records)


def _roll_up_new_records(session: Session, _context) -> None:
    """Every ledger row the ORM writes is added to its day's rollup in the same transaction."""
    records = [obj for obj in session.new if isinstance(obj, UsageRecord)]
    rows = [_rollup_row(obj) for obj in records]
    if rows:
        _upsert(session.connection(), _merged(rows))
        usage_tags.roll_up(session.connection(), rows, [r.tags for r in records])


def rebuild_daily() -> None:
    """Recompute the rollup from the ledger (after rows were bulk-loaded past the ORM)."""
    if db.session.get_bind().dialect.name == "postgresql":
        day = func.to_char(func.timezone("UTC", UsageRecord.created_at), "YYYY-MM-DD")
    else:
        day = func.substr(UsageRecord.created_at, 1, 10)  # SQLite keeps UTC text
    user = func.coalesce(UsageRecord.user_id, 0)
    key = func.coalesce(UsageRecord.api_key_id, 0)
    summed = select(
        day, user, key, UsageRecord.model, UsageRecord.source, func.count(),
        func.sum(case((UsageRecord.status == "error", 1), else_=0)),
        func.sum(UsageRecord.input_tokens), func.sum(UsageRecord.output_tokens),
        func.sum(UsageRecord.cache_read_tokens), func.sum(UsageRecord.cache_write_tokens),
        func.sum(UsageRecord.cost), func.sum(UsageRecord.latency_ms),
    ).group_by(day, user, key, UsageRecord.model, UsageRecord.source)
    db.session.execute(delete(UsageDaily))
    db.session.execute(
        insert(UsageDaily).from_select([*_ROLLUP_KEY, *_ROLLUP_SUMS], summed))
    usage_tags.rebuild(db.session.connection(), _rollup_row)
    db.session.commit()
