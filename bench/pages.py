"""Server time to render the heavy pages over a seeded database (in-process, test client)."""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

PASSWORD = "bench-password"
CONVERSATIONS = 10_000
MESSAGES = 1_000
USAGE_ROWS = 1_000_000


def _app(workdir: Path, database_url: str | None):
    os.environ["PARLOR_INSTANCE_PATH"] = str(workdir / "pages-instance")
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir}/pages.db"
    os.environ["PARLOR_MOCK_VENDOR"] = "on"
    os.environ["LOG_LEVEL"] = "WARNING"
    import config
    from app import create_app

    return create_app(config.TestingConfig(WTF_CSRF_ENABLED=False))


BIG, TERM = "bench00000000", "topic42"  # the conversation of 1,000 messages; a search word


def _seeded(db, message) -> bool:
    from sqlalchemy import func, select

    count = db.session.scalar(select(func.count()).select_from(message)
                              .where(message.conversation_id == BIG))
    return count == MESSAGES


def _seed(app) -> tuple[str, str]:
    import flask_migrate

    from app.extensions import db
    from app.models import Conversation, Message, UsageRecord
    from app.repositories import usage as usage_repo
    from app.services import accounts

    with app.app_context():
        flask_migrate.upgrade()
        if _seeded(db, Message):  # a PostgreSQL database of an earlier run: measured as it is
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            return BIG, TERM
        user = accounts.create_user("pages@example.com", PASSWORD, role="admin")
        now = datetime.now(UTC)
        conversations = [
            {"id": f"bench{i:08d}", "user_id": user.id,
             "title": f"Conversation {i} about topic{i % 97}",
             "model": "mock/echo", "system_prompt": "", "created_at": now - timedelta(minutes=i),
             "updated_at": now - timedelta(minutes=i)}
            for i in range(CONVERSATIONS)
        ]
        db.session.execute(insert(Conversation), conversations)
        big = conversations[0]["id"]
        db.session.execute(insert(Message), [
            {"id": f"benchm{i:08d}", "conversation_id": big, "seq": i + 1,
             "role": "user" if i % 2 == 0 else "assistant",
             "content": f"Message {i} with **markdown** and a `code` span, word{i % 313}.",
             "status": "complete", "model": "mock/echo", "input_tokens": 0, "output_tokens": 0,
             "created_at": now}
            for i in range(MESSAGES)
        ])
        db.session.commit()
        rng = random.Random(7)
        batch = []
        for i in range(USAGE_ROWS):
            batch.append({
                "user_id": user.id, "api_key_id": None, "model": f"mock/m{i % 7}",
                "route": f"mock/m{i % 7}", "input_tokens": rng.randint(10, 900),
                "output_tokens": rng.randint(10, 900), "cost": 0,
                "latency_ms": rng.randint(50, 900),
                "status": "complete" if i % 50 else "error", "source": "web" if i % 3 else "api",
                "created_at": now - timedelta(seconds=i * 2.5),
            })
            if len(batch) == 50_000:
                db.session.execute(insert(UsageRecord), batch)
                batch = []
        if batch:
            db.session.execute(insert(UsageRecord), batch)
        db.session.commit()
        usage_repo.rebuild_daily()  # bulk rows bypass the ORM's rollup upkeep
        # Planner statistics for the bulk-loaded tables, as autovacuum would gather within a
        # minute (without them PostgreSQL's first plans for search are ~4x slower).
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        return big, TERM


def _time(client, url: str, runs: int = 9) -> float | None:
    client.get(url)  # warm caches and the template
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(1000 * (time.perf_counter() - start))
        if response.status_code != 200:
            return None
    return statistics.median(samples)


def measure(workdir: Path, database_url: str | None) -> dict[str, float | None]:
    app = _app(workdir, database_url)
    conversation_id, term = _seed(app)
    client = app.test_client()
    client.post("/login", data={"email": "pages@example.com", "password": PASSWORD})
    return {
        "conversation of 1,000 messages": _time(client, f"/c/{conversation_id}"),
        "sidebar with 10,000 conversations": _time(client, "/"),
        "search over 10,000 conversations": _time(client, f"/search?q={term}"),
        "/admin/usage over 1,000,000 rows": _time(client, "/admin/usage/"),
    }
