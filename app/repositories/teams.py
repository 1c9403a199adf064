"""Queries over teams, their members and what their calls spent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select, update

from app.extensions import db
from app.models import ApiKey, Team, UsageRecord, User


def add(team: Team) -> None:
    db.session.add(team)


def delete(team: Team) -> None:
    db.session.delete(team)


def by_id(team_id: int) -> Team | None:
    return db.session.get(Team, team_id)


def by_name(name: str) -> Team | None:
    return db.session.scalar(select(Team).where(Team.name == name))


def all_teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def members(team_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.team_id == team_id)
                                   .order_by(User.email)))


def member_counts() -> dict[int, int]:
    rows = db.session.execute(select(User.team_id, func.count()).where(
        User.team_id.is_not(None)).group_by(User.team_id))
    return {team_id: count for team_id, count in rows}


def service_keys(team_id: int) -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).where(ApiKey.team_id == team_id)
                                   .order_by(ApiKey.id)))


def detach_all(team_id: int) -> None:
    """Leave the team with no members and no keys (before it is deleted)."""
    db.session.execute(update(User).where(User.team_id == team_id).values(team_id=None))
    db.session.execute(update(ApiKey).where(ApiKey.team_id == team_id).values(team_id=None))


def spent_since(team_id: int, start: datetime) -> tuple[int, Decimal]:
    """Tokens (input plus output) and dollars of the team's calls since ``start``."""
    tokens, cost = db.session.execute(select(
        func.coalesce(func.sum(UsageRecord.input_tokens + UsageRecord.output_tokens), 0),
        func.coalesce(func.sum(UsageRecord.cost), 0)).where(
        UsageRecord.team_id == team_id, UsageRecord.created_at >= start)).one()
    return int(tokens or 0), Decimal(str(cost or 0))


def names_by_id(team_ids) -> dict[int, str]:
    ids = [i for i in set(team_ids) if i]
    if not ids:
        return {}
    return dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).all())


def usage_per_team(start: datetime, end: datetime, source: str | None = None,
                   limit: int | None = None, *, tag: str | None = None) -> list:
    """Metrics per team over ``start``..``end`` (``key`` is the team id), biggest token users
    first, from the ledger itself (it holds the team of each call; only team calls are read,
    through the team index); ``tag`` keeps the calls carrying that tag."""
    r = UsageRecord
    requests = func.count()
    statement = (select(
        r.team_id.label("key"), requests.label("requests"),
        func.coalesce(func.sum(r.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(r.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(r.cache_read_tokens), 0).label("cache_read_tokens"),
        func.coalesce(func.sum(r.cache_write_tokens), 0).label("cache_write_tokens"),
        func.coalesce(func.sum(r.cost), 0).label("cost"),
        func.coalesce(func.sum(case((r.status == "error", 1), else_=0)), 0).label("errors"),
        func.coalesce(func.avg(r.latency_ms), 0).label("avg_latency_ms"))
        .where(r.team_id.is_not(None), r.created_at >= start, r.created_at < end)
        .group_by(r.team_id)
        .order_by(func.sum(r.input_tokens + r.output_tokens).desc(), r.team_id))
    if source:
        statement = statement.where(r.source == source)
    if tag:
        statement = statement.where(
            ("," + r.tags + ",").contains("," + tag + ",", autoescape=True))
    if limit:
        statement = statement.limit(limit)
    return list(db.session.execute(statement))
