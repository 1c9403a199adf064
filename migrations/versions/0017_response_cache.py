"""Response cache per model route: how long answers are kept (null: not cached) and whether
every caller shares them; and per API key: how long the key's answers are kept on routes that
keep none themselves.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("model_routes") as batch_op:
        batch_op.add_column(sa.Column("response_cache_ttl", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response_cache_shared", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("response_cache_ttl", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("response_cache_ttl")
    with op.batch_alter_table("model_routes") as batch_op:
        batch_op.drop_column("response_cache_shared")
        batch_op.drop_column("response_cache_ttl")
