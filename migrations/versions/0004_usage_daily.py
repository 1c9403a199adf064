"""Usage rollup: the ledger summed per UTC day, user, key, model and source, for fast reports.

Filled from the existing ledger on upgrade; kept in step by the usage repository afterwards.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEY = "day, user_id, api_key_id, model, source"
SUMS = "requests, errors, input_tokens, output_tokens, cost, latency_ms_total"


def upgrade():
    op.create_table(
        "usage_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("latency_ms_total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily")),
        sa.UniqueConstraint("day", "user_id", "api_key_id", "model", "source",
                            name=op.f("uq_usage_daily_day")),
    )
    op.create_index("ix_usage_daily_user_day", "usage_daily", ["user_id", "day"])
    if op.get_bind().dialect.name == "postgresql":
        day = "to_char(timezone('UTC', created_at), 'YYYY-MM-DD')"
    else:
        day = "substr(created_at, 1, 10)"  # SQLite keeps UTC datetimes as text
    op.execute(
        f"INSERT INTO usage_daily ({KEY}, {SUMS}) "
        f"SELECT {day}, coalesce(user_id, 0), coalesce(api_key_id, 0), model, source, "
        "count(*), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), sum(input_tokens), "
        "sum(output_tokens), sum(cost), sum(latency_ms) FROM usage_records "
        f"GROUP BY {day}, coalesce(user_id, 0), coalesce(api_key_id, 0), model, source"
    )


def downgrade():
    op.drop_index("ix_usage_daily_user_day", table_name="usage_daily")
    op.drop_table("usage_daily")
