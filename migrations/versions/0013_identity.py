"""Identity: OIDC identities, teams, dollar budgets, tags (reserved slot: filled by the change that needs it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
