"""Writes and aggregates over the usage ledger."""

from __future__ import annotations

from app.extensions import db
from app.models import UsageRecord


def add(record: UsageRecord) -> None:
    db.session.add(record)
