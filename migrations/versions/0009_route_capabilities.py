"""Model routes carry capabilities (``["embeddings"]`` marks an embedding model).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("model_routes") as batch_op:
        batch_op.add_column(sa.Column("capabilities", sa.JSON(), nullable=False,
                                      server_default="[]"))


def downgrade():
    with op.batch_alter_table("model_routes") as batch_op:
        batch_op.drop_column("capabilities")
