"""``flask backup PATH`` and ``flask restore PATH`` (issue 20, backups): round trips with data on
SQLite and PostgreSQL, through the real command line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

import config
from app import create_app
from app.extensions import db
from app.models import Conversation, Message, User
from app.repositories import accounts as accounts_repo
from app.services import accounts, backups, keys
from tests.conftest import PASSWORD, eventually
from tests.postgres import database_url, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "run"]
SECRET_PASSWORD = "pw-never-shown-7f3a9c"


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An SQLite file migrated once with ``flask db upgrade``; tests get copies of it."""
    folder = tmp_path_factory.mktemp("migrated")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/template.db",
           "PARLOR_INSTANCE_PATH": str(folder / "instance")}
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    return folder / "template.db"


@pytest.fixture
def migrated_postgres(migrated_template) -> str:
    """A migrated PostgreSQL database of the test's own, with a password in its URL (the
    shared server trusts local connections, so the password is carried but never checked)."""
    with throwaway_database("parlor_backup_", template=migrated_template) as name:
        yield database_url(name).replace("postgres@", f"postgres:{SECRET_PASSWORD}@")


@pytest.fixture
def build_app(monkeypatch):
    """An app on ``url`` as it is (migrated, not recreated); closed afterwards."""
    built = []

    def factory(url: str):
        monkeypatch.setenv("DATABASE_URL", url)
        app = create_app(config.TestingConfig())
        with app.app_context():
            accounts.ensure_builtin_roles()
            db.session.commit()
        built.append(app)
        return app

    yield factory
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_app(request, build_app, migrated_sqlite, tmp_path):
    """A migrated app, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        live = tmp_path / "parlor.db"
        shutil.copy(migrated_sqlite, live)
        return build_app(f"sqlite:///{live}")
    return build_app(request.getfixturevalue("migrated_postgres"))


@pytest.fixture
def sqlite_app(build_app, migrated_sqlite, tmp_path):
    live = tmp_path / "parlor.db"
    shutil.copy(migrated_sqlite, live)
    return build_app(f"sqlite:///{live}")


def seed(app) -> str:
    """Two users, a key and a conversation of two messages; returns the key."""
    with app.app_context():
        alice = accounts.create_user("alice@example.com", PASSWORD, display_name="Alice")
        accounts.create_user("bob@example.com", PASSWORD)
        conversation = Conversation(user_id=alice.id, model="mock/echo", title="Plans")
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all([
            Message(conversation_id=conversation.id, seq=1, role="user", content="Hello"),
            Message(conversation_id=conversation.id, seq=2, role="assistant", content="Hi!"),
        ])
        db.session.commit()
        _, secret = keys.create_key(alice, name="laptop")
        return secret


def snapshot(app) -> dict:
    """What the database holds, as plain values."""
    with app.app_context():
        try:
            return {
                "users": sorted(db.session.execute(select(User.email, User.display_name))),
                "conversations": sorted(db.session.execute(
                    select(Conversation.id, Conversation.title, Conversation.user_id))),
                "messages": sorted(db.session.execute(
                    select(Message.id, Message.seq, Message.role, Message.content))),
            }
        finally:
            db.session.remove()


def change_everything(app) -> str:
    """Delete the conversation, rename a user, add a user and a key; returns the new key."""
    with app.app_context():
        db.session.delete(db.session.scalars(select(Conversation)).one())
        alice = accounts_repo.user_by_email("alice@example.com")
        alice.display_name = "Changed"
        carol = accounts.create_user("carol@example.com", PASSWORD)
        db.session.commit()
        _, secret = keys.create_key(carol, name="new")
        return secret


def cli(app, *args: str, input: str | None = None):
    with app.app_context():
        db.session.remove()
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_backup_then_restore_brings_the_data_back(backend_app, tmp_path):
    old_key = seed(backend_app)
    before = snapshot(backend_app)
    path = tmp_path / "parlor.backup"

    backed_up = cli(backend_app, "backup", str(path))
    assert backed_up.exit_code == 0, backed_up.output
    last_line = backed_up.output.strip().splitlines()[-1]
    assert str(path) in last_line and backups.human_size(path.stat().st_size) in last_line

    new_key = change_everything(backend_app)
    with backend_app.app_context():
        assert keys.verify_key(new_key) is not None  # now kept by the access cache
    assert snapshot(backend_app) != before

    restored = cli(backend_app, "restore", str(path), "--yes")
    assert restored.exit_code == 0, restored.output
    assert str(path) in restored.output.strip().splitlines()[-1]
    assert snapshot(backend_app) == before
    with backend_app.app_context():
        assert keys.verify_key(old_key) is not None
        assert keys.verify_key(new_key) is None  # the restore moved the access generation on
        assert db.session.scalar(select(func.count()).select_from(Message)) == 2


def test_backup_refuses_to_overwrite_a_file_without_force(sqlite_app, tmp_path):
    seed(sqlite_app)
    path = tmp_path / "existing.db"
    path.write_text("keep me")

    refused = cli(sqlite_app, "backup", str(path))
    assert refused.exit_code != 0 and "--force" in refused.output
    assert path.read_text() == "keep me"

    forced = cli(sqlite_app, "backup", str(path), "--force")
    assert forced.exit_code == 0, forced.output
    assert path.read_bytes().startswith(b"SQLite format 3\x00")
    assert path.stat().st_mode & 0o077 == 0  # password hashes inside: owner-only
    assert not list(tmp_path.glob(".existing.db.partial-*"))


def _bad_backups(folder: Path) -> list[Path]:
    """Files that are not Parlor backups: text, an SQLite file of another app, and an
    unrelated PostgreSQL-looking header."""
    text = folder / "notes.txt"
    text.write_text("not a database\n" * 10)
    other_app = folder / "other.db"
    with sqlite3.connect(other_app) as connection:
        connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    connection.close()
    truncated = folder / "truncated.dump"
    truncated.write_bytes(b"PGDMP\x01\x0e\x00")
    return [text, other_app, truncated]


def _dump_of_another_database(path: Path) -> Path:
    """A real ``pg_dump --format=custom`` archive of a database that is not Parlor's."""
    with throwaway_database("parlor_other_") as name:
        url = database_url(name).replace("+psycopg", "")
        subprocess.run(["psql", url, "-c", "CREATE TABLE things (id int)"], check=True,
                       capture_output=True, timeout=60)
        subprocess.run(["pg_dump", "--format=custom", f"--file={path}", url], check=True,
                       capture_output=True, timeout=60)
    return path


def test_restore_refuses_a_file_that_is_not_a_parlor_backup_and_changes_nothing(
        backend_app, tmp_path):
    seed(backend_app)
    before = snapshot(backend_app)
    bad_files = _bad_backups(tmp_path)
    if backend_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        bad_files.append(_dump_of_another_database(tmp_path / "other.dump"))

    for bad in bad_files:
        result = cli(backend_app, "restore", str(bad), "--yes")
        assert result.exit_code != 0, (bad, result.output)
        assert "not a Parlor" in result.output or "backup, but the configured" in result.output
        assert "Traceback" not in result.output
    assert snapshot(backend_app) == before


def test_restore_asks_first_and_a_no_leaves_the_database_alone(backend_app, tmp_path):
    seed(backend_app)
    path = tmp_path / "parlor.backup"
    assert cli(backend_app, "backup", str(path)).exit_code == 0
    change_everything(backend_app)
    changed = snapshot(backend_app)

    declined = cli(backend_app, "restore", str(path), input="n\n")
    assert declined.exit_code != 0 and "Replace everything in" in declined.output
    assert snapshot(backend_app) == changed


def test_the_database_password_never_appears_in_output(build_app, migrated_postgres, tmp_path):
    app = build_app(migrated_postgres)
    seed(app)
    path = tmp_path / "parlor.dump"
    outputs = [cli(app, "backup", str(path)), cli(app, "restore", str(path), "--yes")]
    assert [result.exit_code for result in outputs] == [0, 0]

    # A failing dump (no such database), through the real command line with its logging.
    wrong = migrated_postgres.rsplit("/", 1)[0] + "/no_such_database_here"
    env = {**os.environ, "DATABASE_URL": wrong, "PARLOR_INSTANCE_PATH": str(tmp_path / "i")}
    failed = subprocess.run([*FLASK, "backup", str(tmp_path / "x.dump")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode != 0 and "no_such_database_here" in failed.stderr
    for text in [*(result.output for result in outputs), failed.stdout, failed.stderr]:
        assert SECRET_PASSWORD not in text


def test_backup_without_pg_dump_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://parlor:{SECRET_PASSWORD}@127.0.0.1:1/x")
    app = create_app(config.TestingConfig())  # never connects: the tool is looked for first
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no PostgreSQL client on it
    result = cli(app, "backup", str(tmp_path / "parlor.dump"))
    assert result.exit_code != 0 and "postgresql-client" in result.output
    assert SECRET_PASSWORD not in result.output


def test_sqlite_backup_while_the_app_writes_is_a_consistent_snapshot(sqlite_app, tmp_path):
    """Each conversation is written with its two messages in one transaction: a backup taken
    mid-stream must hold whole conversations only, and pass SQLite's integrity check."""
    seed(sqlite_app)
    stop = threading.Event()
    written = []

    def write() -> None:
        with sqlite_app.app_context():
            user_id = accounts_repo.user_by_email("bob@example.com").id
            while not stop.is_set():
                conversation = Conversation(user_id=user_id, model="mock/echo")
                db.session.add(conversation)
                db.session.flush()
                db.session.add_all([Message(conversation_id=conversation.id, seq=seq,
                                            role="user", content="x" * 500) for seq in (1, 2)])
                db.session.commit()
                written.append(conversation.id)
            db.session.remove()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copies = []
        for number in range(5):
            eventually(lambda wanted=3 * (number + 1): len(written) >= wanted)
            copy = tmp_path / f"copy-{number}.db"
            backups.backup(sqlite_app.config["SQLALCHEMY_DATABASE_URI"], copy)
            copies.append(copy)
    finally:
        stop.set()
        writer.join(timeout=30)

    counts = []
    for copy in copies:
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            halves = connection.execute(
                "SELECT count(*) FROM conversations c WHERE (SELECT count(*) FROM messages m "
                "WHERE m.conversation_id = c.id) != 2").fetchone()[0]
            assert halves == 0
            counts.append(connection.execute("SELECT count(*) FROM conversations").fetchone()[0])
        connection.close()
    assert counts == sorted(counts) and counts[-1] > counts[0]
