"""The command line of DESIGN.md §7."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, User
from app.services import keys
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "run"]


def test_users_create_reads_password_from_stdin(app, runner):
    result = runner.invoke(args=["users", "create", "Ada@Example.com", "--role", "admin",
                                 "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert (user.email, user.role.name) == ("ada@example.com", "admin")
        assert PASSWORD not in user.password_hash


def test_users_create_refuses_duplicates_and_short_passwords(runner, make_user):
    make_user("taken@example.com")
    taken = runner.invoke(args=["users", "create", "taken@example.com", "--password-stdin"],
                          input=PASSWORD + "\n")
    assert taken.exit_code != 0 and "already exists" in taken.output
    short = runner.invoke(args=["users", "create", "new@example.com", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0 and "at least 8" in short.output


def test_keys_create_prints_the_key_alone_on_the_last_line(tmp_path):
    """The contract, through the real command line an outside script would run."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*FLASK, "users", "create", "admin@example.com", "--role", "admin",
                    "--password-stdin"], cwd=ROOT, env=env, input=PASSWORD + "\n", text=True,
                   check=True, capture_output=True)
    result = subprocess.run([*FLASK, "keys", "create", "admin@example.com", "--name", "x"],
                            cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith("pk-") and " " not in last_line and len(last_line) >= 40


def test_created_key_is_stored_only_as_hash_and_verifies(app, runner, make_user):
    make_user("member@example.com")
    result = runner.invoke(args=["keys", "create", "member@example.com", "--name", "laptop",
                                 "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    with app.app_context():
        row = db.session.scalars(select(ApiKey)).one()
        assert secret not in (row.key_hash, row.prefix) and secret.startswith(row.prefix)
        assert row.expires_at is not None and row.name == "laptop"
        assert keys.verify_key(secret).id == row.id


def test_keys_revoke_by_prefix_stops_the_key(app, runner, make_user):
    make_user("member@example.com")
    secret = runner.invoke(args=["keys", "create", "member@example.com"]).stdout.split()[-1]
    prefix = "-".join(secret.split("-")[:2])
    result = runner.invoke(args=["keys", "revoke", prefix])
    assert result.exit_code == 0 and prefix in result.output
    with app.app_context():
        assert keys.verify_key(secret) is None
    assert runner.invoke(args=["keys", "revoke", "pk-00000000"]).exit_code != 0


def test_keys_create_for_unknown_user_fails_clearly(runner):
    result = runner.invoke(args=["keys", "create", "ghost@example.com"])
    assert result.exit_code != 0 and "No user" in result.output


def test_vendors_check_reports_each_vendor(make_app, fake_vendor):
    app = make_app(OPENAI_BASE_URL=fake_vendor.openai_base_url,
                   OPENAI_API_KEY=fake_vendor.api_key,
                   ANTHROPIC_BASE_URL=fake_vendor.anthropic_base_url,
                   ANTHROPIC_API_KEY="wrong-key")
    result = app.test_cli_runner().invoke(args=["vendors", "check"])
    assert "mock (mock): ok, 2 models" in result.output
    assert "openai (openai-compatible): ok" in result.output and "fake-chat" in result.output
    assert "anthropic (anthropic): FAILED" in result.output
    assert "wrong-key" not in result.output
    assert result.exit_code == 1


def test_bootstrap_creates_first_admin_once_with_generated_password(app, runner):
    first = runner.invoke(args=["bootstrap"])
    assert "Created the first admin: admin@example.com" in first.output
    password = first.output.strip().splitlines()[-1].split(": ")[-1]
    second = runner.invoke(args=["bootstrap"])
    assert second.exit_code == 0 and second.output == ""
    with app.app_context():
        from app.services import accounts

        assert accounts.authenticate("admin@example.com", password).is_admin


def test_bootstrap_takes_admin_email_and_password_from_environment(make_app):
    app = make_app(PARLOR_ADMIN_EMAIL="root@corp.example", PARLOR_ADMIN_PASSWORD=PASSWORD)
    result = app.test_cli_runner().invoke(args=["bootstrap"])
    assert "root@corp.example" in result.output and PASSWORD not in result.output


def test_usage_rebuild_daily_recomputes_the_rollup_from_the_ledger(app, runner):
    from sqlalchemy import insert

    from app.models import UsageRecord
    from app.repositories import usage as usage_repo
    from app.services.budgets import month_bounds

    with app.app_context():
        db.session.execute(insert(UsageRecord), [  # bulk rows: past the ORM's rollup upkeep
            {"model": "mock/echo", "input_tokens": 3, "output_tokens": 4, "status": "complete",
             "source": "api", "user_id": None}] * 5)
        db.session.commit()
        start, end = month_bounds()
        assert usage_repo.totals(start, end).requests == 0
    result = runner.invoke(args=["usage", "rebuild-daily"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = usage_repo.totals(start, end)
        assert (row.requests, row.tokens) == (5, 35)
