"""Migration 0011 (durable replies): the lease column comes and goes with the rows kept, an
``interrupted`` reply reads as ``incomplete`` below it, and the full-text index still works."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import inspect, text

import config
from app import create_app
from app.extensions import db


def _columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("messages")}


def _run(sql: str, **params):
    with db.engine.begin() as connection:
        return connection.execute(text(sql), params)


def _matches(word: str) -> list[str]:
    """Messages the full-text index finds (SQLite: its FTS5 table and triggers; PostgreSQL:
    the expression the GIN index is built on)."""
    if db.engine.dialect.name == "sqlite":
        sql = ("SELECT id FROM messages WHERE rowid IN "
               "(SELECT rowid FROM messages_fts WHERE messages_fts MATCH :word)")
    else:
        sql = ("SELECT id FROM messages WHERE to_tsvector('simple', content) "
               "@@ to_tsquery('simple', :word)")
    return list(_run(sql, word=word).scalars())


def test_migration_0011_adds_the_lease_and_goes_back_keeping_messages_searchable(
        backend_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", backend_url)
    app = create_app(config.TestingConfig())
    with app.app_context():
        db.drop_all()
        _run("DROP TABLE IF EXISTS alembic_version")
        flask_migrate.upgrade(revision="0010")
        assert "lease_expires_at" not in _columns()
        _run("INSERT INTO roles (name, description, builtin, permissions, created_at) "
             "VALUES ('member', '', true, '[]', CURRENT_TIMESTAMP)")
        _run("INSERT INTO users (email, display_name, password_hash, role_id, is_enabled, "
             "session_version, created_at) SELECT 'old@example.com', '', 'x', id, true, 1, "
             "CURRENT_TIMESTAMP FROM roles")
        _run("INSERT INTO conversations (id, user_id, title, model, system_prompt, created_at, "
             "updated_at) SELECT 'c1', id, 'Old', 'mock/echo', '', CURRENT_TIMESTAMP, "
             "CURRENT_TIMESTAMP FROM users")
        _run("INSERT INTO messages (id, conversation_id, seq, role, content, status, "
             "input_tokens, output_tokens, created_at) VALUES ('m1', 'c1', 1, 'assistant', "
             "'a halfway penguin', 'streaming', 0, 0, CURRENT_TIMESTAMP)")

        flask_migrate.upgrade(revision="0011")
        assert "lease_expires_at" in _columns()
        assert _run("SELECT lease_expires_at FROM messages").scalar_one() is None
        _run("UPDATE messages SET status = 'interrupted'")

        flask_migrate.downgrade(revision="0010")
        assert "lease_expires_at" not in _columns()
        assert _run("SELECT status, content FROM messages").one() == (
            "incomplete", "a halfway penguin")
        _run("UPDATE messages SET content = 'a finished walrus'")  # the index follows edits
        assert _matches("walrus") == ["m1"] and _matches("penguin") == []

        _run("DELETE FROM messages")
        _run("DELETE FROM conversations")
        _run("DELETE FROM users")
        _run("DELETE FROM roles")
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()
