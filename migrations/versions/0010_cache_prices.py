"""Cache read/write tokens in the usage ledger and cache prices on routes (reserved slot: filled by the change that needs it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
