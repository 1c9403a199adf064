"""Spend by tag: the usage ledger summed per UTC day and tag (a call with two tags counts
under each)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

TAG_LENGTH = 64


class UsageDailyTag(db.Model):
    """Like ``usage_daily``, one more key: the tag (``x-parlor-tags`` / ``metadata.tags``)."""

    __tablename__ = "usage_daily_tags"
    __table_args__ = (
        UniqueConstraint("day", "tag", "user_id", "api_key_id", "model", "source",
                         name="uq_usage_daily_tags_key"),
        Index("ix_usage_daily_tags_tag_day", "tag", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # 'YYYY-MM-DD', UTC
    tag: Mapped[str] = mapped_column(String(TAG_LENGTH))
    user_id: Mapped[int] = mapped_column(Integer, default=0)
    api_key_id: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(8))
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=0)
    latency_ms_total: Mapped[int] = mapped_column(BigInteger, default=0)
