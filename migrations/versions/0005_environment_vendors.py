"""Vendor credentials may stand in for a vendor configured by environment variables, so model
routes can point at it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("vendor_credentials") as batch_op:
        batch_op.add_column(sa.Column("from_environment", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("vendor_credentials") as batch_op:
        batch_op.drop_column("from_environment")
