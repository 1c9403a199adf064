"""Roles: the models each role may use (``allowed_models``; NULL means every model).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowed_models', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.drop_column('allowed_models')
