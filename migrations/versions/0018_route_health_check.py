"""Active health checks per model route (deployment): opted in routes are probed every
PARLOR_HEALTH_CHECK_INTERVAL seconds (app/vendors/health_checks.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("model_routes") as batch_op:
        batch_op.add_column(sa.Column("health_check", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("model_routes") as batch_op:
        batch_op.drop_column("health_check")
