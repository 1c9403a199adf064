"""API keys may carry their own rate limit, overriding the owner's role.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("rate_limit", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("rate_limit")
