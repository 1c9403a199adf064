"""Conversation tree and parameters: branches, current leaf, per-conversation options
(reserved slot: filled by the change that needs it).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
