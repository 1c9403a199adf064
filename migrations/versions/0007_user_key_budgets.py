"""Users and API keys may carry their own monthly token budget.

A user's overrides their role's; a key's caps what is spent through that key, on top of
its owner's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("monthly_token_budget", sa.Integer(), nullable=True))
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("monthly_token_budget", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("monthly_token_budget")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("monthly_token_budget")
