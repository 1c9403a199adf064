"""API calls' usage rows go through the batched usage writer: the answer never waits for the
ledger, rows survive a database that cannot take them yet, and what is queued at exit lands."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import openai
import psycopg
import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import UsageDaily, UsageRecord
from app.services import usage, usage_writer
from app.vendors import Credential, Route, Usage
from tests.conftest import eventually, fake_vendor_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(make_app, fake_vendor, postgres_url):
    return make_app(postgres_url, PARLOR_USAGE_FLUSH_MS=20,
                    **fake_vendor_env(fake_vendor, "openai"))


def _ledger(app) -> list[UsageRecord]:
    with app.app_context():
        rows = list(db.session.scalars(select(UsageRecord).order_by(UsageRecord.id)))
        db.session.expunge_all()
        return rows


def test_a_call_answers_while_the_ledger_table_is_locked_and_its_row_lands_after(
        app, live_server, make_key, postgres_url):
    client = openai.OpenAI(base_url=live_server + "/v1", api_key=make_key(), max_retries=0,
                           timeout=10)
    client.chat.completions.create(model="openai/fake-chat",
                                   messages=[{"role": "user", "content": "warm up"}])
    assert eventually(lambda: len(_ledger(app)) == 1)
    locker = psycopg.connect(postgres_url.replace("+psycopg", ""))
    try:
        locker.execute("LOCK TABLE usage_records IN EXCLUSIVE MODE")  # reads pass, writes wait
        reply = client.chat.completions.create(model="openai/fake-chat",
                                               messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content  # answered with the ledger write blocked
        assert len(_ledger(app)) == 1
    finally:
        locker.rollback()  # the lock goes with the transaction
        locker.close()
    assert eventually(lambda: len(_ledger(app)) == 2)
    rows = _ledger(app)
    assert [r.status for r in rows] == ["complete", "complete"]
    assert rows[1].input_tokens == reply.usage.prompt_tokens


def test_a_burst_of_calls_is_written_with_its_daily_rollup_in_step(app, live_server, make_key):
    client = openai.OpenAI(base_url=live_server + "/v1", api_key=make_key(), max_retries=0,
                           timeout=10)
    replies = [client.chat.completions.create(model="openai/fake-chat",
                                              messages=[{"role": "user", "content": f"n{i}"}])
               for i in range(12)]
    assert eventually(lambda: len(_ledger(app)) == 12)
    with app.app_context():
        requests, tokens = db.session.execute(select(
            func.sum(UsageDaily.requests),
            func.sum(UsageDaily.input_tokens + UsageDaily.output_tokens))).one()
        assert db.session.scalar(select(func.count()).select_from(UsageDaily)) == 1
    assert requests == 12
    assert tokens == sum(r.usage.total_tokens for r in replies)


def _row(**overrides) -> dict:
    row = {"user_id": None, "api_key_id": None, "model": "m", "route": "", "input_tokens": 3,
           "output_tokens": 4, "cost": 0, "latency_ms": 5, "status": "complete",
           "source": "api", "created_at": datetime.now(UTC)}
    return row | overrides


def test_rows_the_database_refuses_stay_queued_and_are_written_on_the_next_flush(make_app):
    app = make_app(PARLOR_USAGE_FLUSH_MS=0)
    writer = app.extensions[usage_writer.EXTENSION]
    with app.app_context():
        db.session.execute(text("ALTER TABLE usage_records RENAME TO usage_records_away"))
        db.session.commit()
    writer.submit(_row())
    writer.submit(_row(input_tokens=10))
    assert writer.pending == 2  # not lost: the ledger table was not there
    with app.app_context():
        db.session.execute(text("ALTER TABLE usage_records_away RENAME TO usage_records"))
        db.session.commit()
    assert writer.flush() == 2
    assert [r.input_tokens for r in _ledger(app)] == [3, 10]


def test_rows_still_queued_when_the_process_ends_are_written_at_exit(tmp_path):
    database = tmp_path / "exit.db"
    script = f"""
import os
os.environ.update(DATABASE_URL="sqlite:///{database}", PARLOR_USAGE_FLUSH_MS="600000",
                  PARLOR_INSTANCE_PATH="{tmp_path}")
from config import TestingConfig
from app import create_app
from app.extensions import db
from app.services import usage
from app.vendors import Usage
app = create_app(TestingConfig(PARLOR_USAGE_FLUSH_MS=600000))
with app.app_context():
    db.create_all()
    for n in range(3):
        usage.submit(user_id=None, model="m", route=None, usage=Usage(1, n), latency_ms=1,
                     status="complete", source="api")
    assert app.extensions["parlor.usage_writer"].pending == 3
"""
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM usage_records").fetchone() == (3,)
        assert connection.execute("SELECT requests FROM usage_daily").fetchone() == (3,)


def test_a_queued_row_keeps_its_route_cost_tokens_and_status(make_app):
    app = make_app()
    route = Route(public_name="gpt", credential=Credential(name="openai", kind="openai"),
                  upstream_model="gpt-x", input_price=Decimal(2), output_price=Decimal(10))
    with app.app_context():
        usage.submit(user_id=None, model="gpt", route=route, usage=Usage(500_000, 100_000),
                     latency_ms=7, status="error", source="api")
    [row] = _ledger(app)
    assert (row.route, row.input_tokens, row.output_tokens, row.latency_ms, row.status) == (
        "openai/gpt-x", 500_000, 100_000, 7, "error")
    assert row.cost == Decimal("2.000000")  # 0.5 M x 2 + 0.1 M x 10


def test_a_gunicorn_worker_that_stops_writes_the_rows_it_still_held(tmp_path):
    from bench import servers  # the bench's fast upstream and make serve's gunicorn settings

    upstream, port = servers.start_upstream(chunks=2, chunk_delay=0.0)
    try:
        env = servers.parlor_env(tmp_path, port, None) | {"PARLOR_USAGE_FLUSH_MS": "600000"}
        key = servers.prepare_parlor(env)
        parlor, parlor_port = servers.start_parlor(env, workers=1)
        try:
            with openai.OpenAI(base_url=f"http://127.0.0.1:{parlor_port}/v1", api_key=key,
                               max_retries=0, timeout=10) as client:
                for _ in range(3):
                    client.chat.completions.create(
                        model="openai/bench-model", messages=[{"role": "user", "content": "hi"}])
            with sqlite3.connect(tmp_path / "bench.db") as connection:
                assert connection.execute("SELECT count(*) FROM usage_records").fetchone() == (0,)
        finally:
            servers.stop(parlor)  # SIGTERM: the worker exits as in a deploy or a restart
        with sqlite3.connect(tmp_path / "bench.db") as connection:
            assert connection.execute("SELECT count(*) FROM usage_records").fetchone() == (3,)
    finally:
        servers.stop(upstream)
