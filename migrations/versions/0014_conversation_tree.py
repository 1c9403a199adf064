"""Conversation tree and parameters: each conversation remembers the leaf of the branch it
shows (``current_leaf_id``), whether its user renamed it (``title_renamed``: automatic titles
leave it alone) and its reply options (``options``: temperature, max tokens, reasoning effort).

Existing conversations become single-branch trees: each message's parent is the message before
it in ``seq`` order, and the current leaf is the last message.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on SQLite too (ADD / DROP COLUMN): recreating ``conversations`` would
    # drop the old table, and with foreign keys on, that deletes every message.
    with op.batch_alter_table("conversations", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("current_leaf_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("title_renamed", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=False,
                                      server_default="{}"))
    op.execute(
        "UPDATE messages SET parent_id = ("
        " SELECT prior.id FROM messages AS prior"
        " WHERE prior.conversation_id = messages.conversation_id AND prior.seq < messages.seq"
        " ORDER BY prior.seq DESC LIMIT 1)"
        " WHERE parent_id IS NULL")
    op.execute(
        "UPDATE conversations SET current_leaf_id = ("
        " SELECT newest.id FROM messages AS newest WHERE newest.conversation_id = conversations.id"
        " ORDER BY newest.seq DESC LIMIT 1)")


def downgrade():
    with op.batch_alter_table("conversations", recreate="never") as batch_op:  # as above
        batch_op.drop_column("options")
        batch_op.drop_column("title_renamed")
        batch_op.drop_column("current_leaf_id")
