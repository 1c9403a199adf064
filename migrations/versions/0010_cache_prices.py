"""Prompt caching in the ledger and its price: cache-read and cache-write tokens on every usage
row and on the daily rollup, and a route's cache read/write prices (USD per million tokens;
NULL charges those tokens at the route's input price, as before this revision).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TOKEN_COLUMNS = ("cache_read_tokens", "cache_write_tokens")
PRICE_COLUMNS = ("cache_read_price", "cache_write_price")


def upgrade():
    with op.batch_alter_table("usage_records") as batch_op:
        for name in TOKEN_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                          server_default="0"))
    with op.batch_alter_table("usage_daily") as batch_op:
        for name in TOKEN_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False,
                                          server_default="0"))
    with op.batch_alter_table("model_routes") as batch_op:
        for name in PRICE_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Numeric(precision=12, scale=4),
                                          nullable=True))


def downgrade():
    with op.batch_alter_table("model_routes") as batch_op:
        for name in reversed(PRICE_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("usage_daily") as batch_op:
        for name in reversed(TOKEN_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("usage_records") as batch_op:
        for name in reversed(TOKEN_COLUMNS):
            batch_op.drop_column(name)
