"""Upgrading a database that holds data keeps every row: on SQLite, a migration that rebuilds a
table (batch mode) must not let ``ON DELETE CASCADE`` empty the tables that point at it."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import text

import config
from app import create_app
from app.extensions import db

BEFORE = "0009"  # the last release's schema
ROWS = {
    "roles": "INSERT INTO roles (id, name, description, builtin, permissions, created_at) "
             "VALUES (1, 'member', '', true, '[\"chat\", \"api\"]', CURRENT_TIMESTAMP)",
    "users": "INSERT INTO users (id, email, display_name, password_hash, role_id, is_enabled, "
             "session_version, created_at) VALUES (1, 'old@example.com', '', 'x', 1, true, 1, "
             "CURRENT_TIMESTAMP)",
    "api_keys": "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at) "
                "VALUES (1, 1, 'k', 'pk-00000000', 'h', '[]', CURRENT_TIMESTAMP)",
    "conversations": "INSERT INTO conversations (id, user_id, title, model, system_prompt, "
                     "created_at, updated_at) VALUES ('c1', 1, 'Kept', 'mock/echo', '', "
                     "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "messages": "INSERT INTO messages (id, conversation_id, seq, role, content, status, "
                "input_tokens, output_tokens, created_at) VALUES "
                "('m1', 'c1', 1, 'user', 'hello', 'complete', 0, 0, CURRENT_TIMESTAMP), "
                "('m2', 'c1', 2, 'assistant', 'hi there', 'complete', 1, 2, CURRENT_TIMESTAMP)",
}


def _counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ROWS}


def test_upgrading_and_downgrading_a_database_with_data_keeps_every_row(backend_url,
                                                                        monkeypatch):
    monkeypatch.setenv("DATABASE_URL", backend_url)
    app = create_app(config.TestingConfig())
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            for statement in ROWS.values():
                connection.execute(text(statement))
        before = _counts()
        assert before == {"roles": 1, "users": 1, "api_keys": 1, "conversations": 1,
                          "messages": 2}

        flask_migrate.upgrade()
        assert _counts() == before
        with db.engine.connect() as connection:
            assert connection.execute(text(
                "SELECT content FROM messages WHERE id = 'm2'")).scalar_one() == "hi there"

        flask_migrate.downgrade(revision=BEFORE)
        assert _counts() == before
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()
