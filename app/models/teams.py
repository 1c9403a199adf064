"""Teams: groups of users (and service API keys) with their own models, limit and budgets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.columns import UTCDateTime, utcnow


class Team(db.Model):
    """A team; a user belongs to at most one, an API key may belong to one (a service key that
    outlives the person who made it)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    # Public model names (or ``vendor/*``) the team may use, on top of each role's; None: any.
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON)
    rate_limit: Mapped[str | None] = mapped_column(String(64))
    monthly_token_budget: Mapped[int | None] = mapped_column(Integer)
    monthly_cost_budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
