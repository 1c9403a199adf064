"""Vendor credentials carry their kind's declared fields: plain ones in ``settings`` (JSON),
secret ones in ``encrypted_settings`` (one encrypted JSON object).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("vendor_credentials") as batch_op:
        batch_op.add_column(sa.Column("settings", sa.JSON(), nullable=False,
                                      server_default="{}"))
        batch_op.add_column(sa.Column("encrypted_settings", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("vendor_credentials") as batch_op:
        batch_op.drop_column("encrypted_settings")
        batch_op.drop_column("settings")
