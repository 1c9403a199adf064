"""Full-text search over message text: SQLite FTS5 table kept by triggers, PostgreSQL GIN index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

The statements are copied here on purpose (a migration must not change when the models do);
app/models/chat.py creates the same objects for ``create_all``. Caution for later SQLite
migrations: a batch ("move and copy") rebuild of ``messages`` drops these triggers and
renumbers rowids, so such a migration must run this upgrade's statements again.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = {
    "sqlite": [
        "CREATE VIRTUAL TABLE messages_fts USING fts5("
        "content, content='messages', tokenize='unicode61 remove_diacritics 2')",
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); END",
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, content) "
        "VALUES ('delete', old.rowid, old.content); END",
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages "
        "BEGIN INSERT INTO messages_fts(messages_fts, rowid, content) "
        "VALUES ('delete', old.rowid, old.content); "
        "INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); END",
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",  # index existing messages
    ],
    "postgresql": [
        "CREATE INDEX ix_messages_search ON messages USING gin (to_tsvector('simple', content))",
    ],
}
DOWNGRADE = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS messages_fts_update",
        "DROP TRIGGER IF EXISTS messages_fts_delete",
        "DROP TRIGGER IF EXISTS messages_fts_insert",
        "DROP TABLE IF EXISTS messages_fts",
    ],
    "postgresql": ["DROP INDEX IF EXISTS ix_messages_search"],
}


def _run(statements):
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def upgrade():
    _run(UPGRADE)


def downgrade():
    _run(DOWNGRADE)
