"""Migrations: up, down to nothing and up again on SQLite and PostgreSQL; models match them."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import config
from app import create_app
from app.extensions import db
from app.models.chat import SEARCH_INDEX_NAME, SEARCH_INDEX_TABLES

TABLES = {
    "roles", "users", "api_keys", "vendor_credentials", "model_routes", "model_route_roles",
    "conversations", "messages", "usage_records", "usage_daily", "audit_events",
    "stored_responses", "attachments", "message_attachments", "user_identities",
    "usage_daily_tags", "teams",
}


def _app(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    return create_app(config.TestingConfig())


def _empty_database():
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _tables():
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"} - SEARCH_INDEX_TABLES


def _not_search_index(name, type_, parent_names) -> bool:
    """The full-text index is dialect-specific DDL outside the metadata (see 0002_search)."""
    return name not in SEARCH_INDEX_TABLES and name != SEARCH_INDEX_NAME


def test_upgrade_downgrade_upgrade(backend_url, monkeypatch):
    app = _app(monkeypatch, backend_url)
    with app.app_context():
        _empty_database()
        flask_migrate.upgrade()
        assert _tables() == TABLES
        flask_migrate.downgrade(revision="base")
        assert _tables() == set()
        flask_migrate.upgrade()
        assert _tables() == TABLES
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()


def test_models_and_migrations_describe_the_same_schema(backend_url, monkeypatch):
    app = _app(monkeypatch, backend_url)
    with app.app_context():
        _empty_database()
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": _not_search_index})
            diff = compare_metadata(context, db.metadata)
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()
    assert diff == []


# -- migration 0007: users' and keys' monthly budgets -------------------------------------------


def _columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def test_migration_0007_adds_and_drops_the_budget_columns(backend_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", backend_url)
    app = create_app(config.TestingConfig())
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade(revision="0006")
        assert "monthly_token_budget" not in _columns("users") | _columns("api_keys")
        with db.engine.begin() as connection:  # a row from before, to carry over
            connection.execute(text(
                "INSERT INTO roles (name, description, builtin, permissions, created_at) "
                "VALUES ('member', '', true, '[]', CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO users (email, display_name, password_hash, role_id, is_enabled, "
                "session_version, created_at) SELECT 'old@example.com', '', 'x', id, true, 1, "
                "CURRENT_TIMESTAMP FROM roles"))

        flask_migrate.upgrade(revision="0007")
        assert "monthly_token_budget" in _columns("users")
        assert "monthly_token_budget" in _columns("api_keys")
        with db.engine.begin() as connection:
            assert connection.execute(text(
                "SELECT monthly_token_budget FROM users")).scalar_one() is None
            connection.execute(text("UPDATE users SET monthly_token_budget = 5"))

        flask_migrate.downgrade(revision="0006")
        assert "monthly_token_budget" not in _columns("users") | _columns("api_keys")
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT email FROM users")).scalar_one() == \
                "old@example.com"
        flask_migrate.upgrade()
        assert "monthly_token_budget" in _columns("users")
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM users"))
            connection.execute(text("DELETE FROM roles"))
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()


# -- migration 0014: conversation trees --------------------------------------------------------


def test_migration_0014_reads_existing_conversations_as_single_branch_trees(backend_url,
                                                                            monkeypatch):
    monkeypatch.setenv("DATABASE_URL", backend_url)
    app = create_app(config.TestingConfig())
    with app.app_context():
        _empty_database()
        flask_migrate.upgrade(revision="0013")
        with db.engine.begin() as connection:  # two linear conversations from before
            connection.execute(text(
                "INSERT INTO roles (name, description, builtin, permissions, created_at) "
                "VALUES ('member', '', true, '[]', CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO users (email, display_name, password_hash, role_id, is_enabled, "
                "session_version, created_at) SELECT 'old@example.com', '', 'x', id, true, 1, "
                "CURRENT_TIMESTAMP FROM roles"))
            for conversation, count in (("c1", 3), ("c2", 1), ("c3", 0)):
                connection.execute(text(
                    "INSERT INTO conversations (id, user_id, title, model, system_prompt, "
                    "created_at, updated_at) SELECT :id, id, 't', 'mock/echo', '', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM users"), {"id": conversation})
                for seq in range(count, 0, -1):  # stored out of order: seq decides
                    connection.execute(text(
                        "INSERT INTO messages (id, conversation_id, seq, role, content, status, "
                        "input_tokens, output_tokens, created_at) VALUES (:id, :c, :seq, "
                        "'user', 'x', 'complete', 0, 0, CURRENT_TIMESTAMP)"),
                        {"id": f"{conversation}m{seq}", "c": conversation, "seq": seq})

        flask_migrate.upgrade(revision="0014")
        with db.engine.begin() as connection:
            parents = dict(connection.execute(text("SELECT id, parent_id FROM messages")).all())
            leaves = dict(connection.execute(text(
                "SELECT id, current_leaf_id FROM conversations")).all())
            flags = connection.execute(text(
                "SELECT DISTINCT title_renamed FROM conversations")).scalars().all()
        assert parents == {"c1m1": None, "c1m2": "c1m1", "c1m3": "c1m2", "c2m1": None}
        assert leaves == {"c1": "c1m3", "c2": "c2m1", "c3": None}
        assert [bool(flag) for flag in flags] == [False]

        flask_migrate.downgrade(revision="0013")
        assert "current_leaf_id" not in _columns("conversations")
        flask_migrate.upgrade()
        assert {"current_leaf_id", "title_renamed", "options"} <= _columns("conversations")
        with db.engine.begin() as connection:  # older downgrades recreate these tables
            assert connection.execute(text("SELECT count(*) FROM messages")).scalar_one() == 4
            for table in ("messages", "conversations", "users", "roles"):
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed names)
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()
