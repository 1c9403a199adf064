"""Writes and aggregates over the usage ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, case, func, select

from app.extensions import db
from app.models import UsageRecord

GROUPS = ("day", "user", "key", "model", "source")


def add(record: UsageRecord) -> None:
    db.session.add(record)


def tokens_of_user_since(user_id: int, start: datetime) -> int:
    """Input plus output tokens the user spent since ``start`` (index ix_usage_user_created)."""
    spent = func.coalesce(func.sum(UsageRecord.input_tokens + UsageRecord.output_tokens), 0)
    return int(db.session.scalar(select(spent).where(
        UsageRecord.user_id == user_id, UsageRecord.created_at >= start)) or 0)


def _day(column):
    """The UTC calendar day of ``column`` as 'YYYY-MM-DD' text, on either backend."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite keeps UTC text: 'YYYY-MM-DD HH:MM:SS...'


def _group_key(group: str):
    return {
        "day": lambda: _day(UsageRecord.created_at),
        "user": lambda: UsageRecord.user_id,
        "key": lambda: UsageRecord.api_key_id,
        "model": lambda: UsageRecord.model,
        "source": lambda: UsageRecord.source,
    }[group]()


def _metrics() -> tuple:
    tokens = func.coalesce(func.sum(UsageRecord.input_tokens + UsageRecord.output_tokens), 0)
    return (
        func.count().label("requests"),
        func.coalesce(func.sum(UsageRecord.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(UsageRecord.output_tokens), 0).label("output_tokens"),
        tokens.label("tokens"),
        func.coalesce(func.sum(UsageRecord.cost), 0).label("cost"),
        func.coalesce(func.sum(case((UsageRecord.status == "error", 1), else_=0)), 0)
        .label("errors"),
        func.coalesce(func.avg(UsageRecord.latency_ms), 0).label("avg_latency_ms"),
    )


def _filtered(statement: Select, start: datetime, end: datetime, source: str | None,
              user_id: int | None = None) -> Select:
    statement = statement.where(UsageRecord.created_at >= start, UsageRecord.created_at < end)
    if source:
        statement = statement.where(UsageRecord.source == source)
    if user_id is not None:
        statement = statement.where(UsageRecord.user_id == user_id)
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
            UsageRecord.input_tokens + UsageRecord.output_tokens).desc(), key)
    if limit:
        statement = statement.limit(limit)
    return list(db.session.execute(statement))
