"""Durable replies: message tree, stream lease, per-conversation parameters (reserved slot: filled by the change that needs it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
