"""Load balancing across deployments: a route's weight and its name's balancing strategy.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("model_routes") as batch_op:
        batch_op.add_column(sa.Column("weight", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("strategy", sa.String(length=16), nullable=False,
                                      server_default="weighted"))


def downgrade():
    with op.batch_alter_table("model_routes") as batch_op:
        batch_op.drop_column("strategy")
        batch_op.drop_column("weight")
