"""Attachments: uploaded files (one per distinct content per owner; bytes in the row, or
NULL when ``PARLOR_ATTACHMENTS_DIR`` keeps them on disk) and the message links to them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "sha256", name="uq_attachments_user_sha256"),
    )
    op.create_index("ix_attachments_user_id", "attachments", ["user_id"])
    op.create_table(
        "message_attachments",
        sa.Column("message_id", sa.String(32), sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("attachment_id", sa.String(32),
                  sa.ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_message_attachments_attachment", "message_attachments",
                    ["attachment_id"])


def downgrade():
    op.drop_index("ix_message_attachments_attachment", table_name="message_attachments")
    op.drop_table("message_attachments")
    op.drop_index("ix_attachments_user_id", table_name="attachments")
    op.drop_table("attachments")
