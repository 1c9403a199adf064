"""Time /admin/usage over a million usage rows on SQLite and PostgreSQL (not a test).

    .venv/bin/python -m bench.usage_page [ROWS]

Rows are spread over a year; the page is timed for its default range (30 days) and for the
whole year. PostgreSQL is skipped when it is not reachable on 127.0.0.1:5432. Not part of
``make bench`` (its page figures come from bench/pages.py).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time

from cryptography.fernet import Fernet

import config
from app import create_app
from app.extensions import db
from app.services import accounts, keys
from bench.usage_rows import insert_usage_rows

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct horse battery"


def bench(url: str, rows: int) -> None:
    """Seed ``rows`` usage rows into the database at ``url`` and print the page's timings."""
    os.environ.update(DATABASE_URL=url, SECRET_KEY="bench", LOG_LEVEL="WARNING",
                      PARLOR_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
                      PARLOR_INSTANCE_PATH=tempfile.mkdtemp())
    app = create_app(config.TestingConfig(WTF_CSRF_ENABLED=False))
    with app.app_context():
        db.drop_all()
        db.create_all()
        accounts.ensure_builtin_roles()
        admin = accounts.create_user("admin@example.com", PASSWORD, role="admin")
        users = [admin.id] + [accounts.create_user(f"u{i}@example.com", PASSWORD).id
                              for i in range(20)]
        key_ids = [None] + [keys.create_key(db.session.get(type(admin), u))[0].id
                            for u in users[:5]]
        started = time.perf_counter()
        insert_usage_rows(rows, user_ids=users, key_ids=key_ids, days=365)
        elapsed = time.perf_counter() - started
        print(f"{url.split(':')[0]}: inserted {rows:,} rows in {elapsed:.1f}s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE usage_records")
        else:
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
    client = app.test_client()
    client.post("/login", data={"email": "admin@example.com", "password": PASSWORD})
    for label, query in [("default 30 days", ""), ("whole year", "?start=" + _year_ago()),
                         ("whole year, api only", "?source=api&start=" + _year_ago()),
                         ("CSV per day, whole year", None)]:
        url_ = (f"/admin/usage/usage.csv?group=day&start={_year_ago()}" if query is None
                else "/admin/usage/" + query)
        client.get(url_)  # warm the cache
        times = []
        for _ in range(3):
            started = time.perf_counter()
            response = client.get(url_)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        print(f"  {label:28} best {min(times) * 1000:7.0f} ms   worst {max(times) * 1000:7.0f} ms")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _year_ago() -> str:
    from datetime import UTC, datetime, timedelta
    return (datetime.now(UTC) - timedelta(days=364)).date().isoformat()


def main() -> None:
    """Time the page on SQLite, then on the shared PostgreSQL if it is reachable."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{folder}/bench.db", rows)
    try:
        import psycopg
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL here
        print(f"postgresql: skipped ({exc})")
        return
    name = "parlor_bench_" + secrets.token_hex(4)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        bench(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", rows)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
