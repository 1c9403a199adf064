"""The usage ledger: one row per vendor call."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.columns import UTCDateTime, utcnow


class UsageRecord(db.Model):
    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_created", "created_at"),
        Index("ix_usage_user_created", "user_id", "created_at"),
        Index("ix_usage_team_created", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), index=True
    )
    model: Mapped[str] = mapped_column(String(200))
    route: Mapped[str] = mapped_column(String(200), default="")
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # Of input_tokens: read from / written to the vendor's prompt cache (priced apart).
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    # The caller's tags, comma-separated ("" for none): x-parlor-tags or metadata.tags on /v1.
    tags: Mapped[str] = mapped_column(String(700), default="", server_default="")
    # The team the call counts towards: its key's team, else its user's (None: no team).
    team_id: Mapped[int | None] = mapped_column(Integer)
    # The prices (USD per million tokens) the call was charged at: an admin's or the price
    # catalog's, kept so a later price change never rewrites history (None: no route).
    input_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    output_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    cache_read_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    cache_write_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageDaily(db.Model):
    """The ledger summed per UTC day, user, key, model and source: what usage reports read.

    Kept in step with ``usage_records`` by the usage repository (one upsert per ledger row),
    so a report over a million calls sums a few hundred rows. 0 stands for "no user" or
    "no key" (NULLs would never collide in the unique constraint).
    """

    __tablename__ = "usage_daily"
    __table_args__ = (
        UniqueConstraint("day", "user_id", "api_key_id", "model", "source"),
        Index("ix_usage_daily_user_day", "user_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # 'YYYY-MM-DD', UTC
    user_id: Mapped[int] = mapped_column(Integer, default=0)
    api_key_id: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(8))
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=0)
    latency_ms_total: Mapped[int] = mapped_column(BigInteger, default=0)
