"""Identity and spend: the OpenID Connect identities (issuer + subject) that sign in as a
Parlor user; the tags of each usage row (x-parlor-tags / metadata.tags) and the ledger summed
per day and tag (usage_daily_tags); monthly budgets in US dollars for roles, users and API
keys (monthly_cost_budget, beside the token budgets); teams, which users and service keys
belong to, and the team each usage row counts towards; the prices each usage row was charged
at (an admin's or the price catalog's).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COST_BUDGET_TABLES = ("roles", "users", "api_keys")
TEAM_MEMBER_TABLES = ("users", "api_keys")
CHARGED_PRICES = ("input_price", "output_price", "cache_read_price", "cache_write_price")


def upgrade():
    op.create_table(
        "user_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_user_identities_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_user_identities"),
        sa.UniqueConstraint("issuer", "subject", name="uq_user_identities_subject"),
    )
    op.create_index("ix_user_identities_user_id", "user_identities", ["user_id"])

    with op.batch_alter_table("usage_records") as batch_op:
        batch_op.add_column(sa.Column("tags", sa.String(length=700), nullable=False,
                                      server_default=""))
    op.create_table(
        "usage_daily_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in (
            "requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens",
            "cache_write_tokens")),
        sa.Column("cost", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("latency_ms_total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_daily_tags"),
        sa.UniqueConstraint("day", "tag", "user_id", "api_key_id", "model", "source",
                            name="uq_usage_daily_tags_key"),
    )
    op.create_index("ix_usage_daily_tags_tag_day", "usage_daily_tags", ["tag", "day"])

    for table in COST_BUDGET_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("monthly_cost_budget",
                                          sa.Numeric(precision=12, scale=4), nullable=True))

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("allowed_models", sa.JSON(), nullable=True),
        sa.Column("rate_limit", sa.String(length=64), nullable=True),
        sa.Column("monthly_token_budget", sa.Integer(), nullable=True),
        sa.Column("monthly_cost_budget", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
    )
    for table in TEAM_MEMBER_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(f"fk_{table}_team_id_teams", "teams", ["team_id"],
                                        ["id"], ondelete="SET NULL")
            batch_op.create_index(f"ix_{table}_team_id", ["team_id"])
    with op.batch_alter_table("usage_records") as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_usage_team_created", ["team_id", "created_at"])
        for name in CHARGED_PRICES:
            batch_op.add_column(sa.Column(name, sa.Numeric(precision=12, scale=4),
                                          nullable=True))


def downgrade():
    with op.batch_alter_table("usage_records") as batch_op:
        for name in reversed(CHARGED_PRICES):
            batch_op.drop_column(name)
        batch_op.drop_index("ix_usage_team_created")
        batch_op.drop_column("team_id")
    for table in reversed(TEAM_MEMBER_TABLES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_team_id")
            batch_op.drop_constraint(f"fk_{table}_team_id_teams", type_="foreignkey")
            batch_op.drop_column("team_id")
    op.drop_table("teams")
    for table in reversed(COST_BUDGET_TABLES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("monthly_cost_budget")
    op.drop_index("ix_usage_daily_tags_tag_day", table_name="usage_daily_tags")
    op.drop_table("usage_daily_tags")
    with op.batch_alter_table("usage_records") as batch_op:
        batch_op.drop_column("tags")
    op.drop_index("ix_user_identities_user_id", table_name="user_identities")
    op.drop_table("user_identities")
