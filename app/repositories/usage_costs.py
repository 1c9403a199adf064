"""Dollars spent this month, for the dollar budgets: sums of ``usage_daily.cost`` (the daily
rollup, a few rows however busy a user is)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models import UsageDaily


def _day_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def _decimal(value) -> Decimal:
    return Decimal(str(value or 0))


def cost_of_user_since(user_id: int, start: datetime) -> Decimal:
    """What the user's calls cost since ``start``, a UTC midnight."""
    return _decimal(db.session.scalar(select(func.coalesce(func.sum(UsageDaily.cost), 0)).where(
        UsageDaily.user_id == user_id, UsageDaily.day >= _day_text(start))))


def cost_of_key_since(user_id: int, key_id: int, start: datetime) -> Decimal:
    """What the calls through the key cost since ``start`` (the owner's id keeps the query on
    the per-user index)."""
    return _decimal(db.session.scalar(select(func.coalesce(func.sum(UsageDaily.cost), 0)).where(
        UsageDaily.user_id == user_id, UsageDaily.api_key_id == key_id,
        UsageDaily.day >= _day_text(start))))


def cost_per_key_of_user_since(user_id: int, start: datetime) -> dict[int, Decimal]:
    """What the calls through each of the user's keys cost since ``start``."""
    rows = db.session.execute(select(UsageDaily.api_key_id, func.sum(UsageDaily.cost)).where(
        UsageDaily.user_id == user_id, UsageDaily.api_key_id != 0,
        UsageDaily.day >= _day_text(start)).group_by(UsageDaily.api_key_id))
    return {key_id: _decimal(cost) for key_id, cost in rows}
