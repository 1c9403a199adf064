"""Durable replies: a streaming reply's lease (``messages.lease_expires_at``), renewed by the
process writing it; a reply whose lease lapses becomes ``interrupted`` (a status value, no
schema change) with the text saved so far. The index finds lapsed leases without a scan.
A reply's reasoning (``messages.thinking``: Anthropic thinking, OpenAI-compatible
``reasoning_content``) is stored beside its text, saved as it grows too.

Downgrade: ``interrupted`` replies read as ``incomplete`` (the nearest older status).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (batch mode leaves SQLite's table, and its full-text triggers, alone).
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("thinking", sa.Text(), nullable=False, server_default=""))
    op.create_index("ix_messages_lease_expires_at", "messages", ["lease_expires_at"])


def downgrade():
    op.execute("UPDATE messages SET status = 'incomplete' WHERE status = 'interrupted'")
    op.drop_index("ix_messages_lease_expires_at", table_name="messages")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column in place (3.35+); batch mode would copy the table and lose the
        # full-text index's triggers on it.
        op.execute("ALTER TABLE messages DROP COLUMN thinking")
        op.execute("ALTER TABLE messages DROP COLUMN lease_expires_at")
    else:
        op.drop_column("messages", "thinking")
        op.drop_column("messages", "lease_expires_at")
