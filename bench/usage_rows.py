"""Bulk usage rows for the /admin/usage benchmark (executemany, one transaction)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert

from app.extensions import db
from app.models import UsageRecord
from app.repositories import usage as usage_repo

MODELS = ("mock/echo", "openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "fast")


def insert_usage_rows(count: int, *, user_ids, key_ids=(None,), days: int = 365,
                      now: datetime | None = None, batch: int = 20_000, seed: int = 7) -> None:
    """Insert ``count`` plausible rows spread over the last ``days`` days, oldest first
    (a ledger is appended to in time order, so row order follows ``created_at``)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    span = days * 86_400
    done = 0
    while done < count:
        rows = []
        for i in range(done, done + min(batch, count - done)):
            input_tokens, output_tokens = rng.randint(10, 4000), rng.randint(1, 1500)
            rows.append({
                "user_id": rng.choice(user_ids), "api_key_id": rng.choice(key_ids),
                "model": rng.choice(MODELS), "route": "", "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cost": Decimal(input_tokens * 15 + output_tokens * 60) / 100_000_000,
                "latency_ms": rng.randint(80, 9000),
                "status": "error" if rng.random() < 0.02 else "complete",
                "source": rng.choice(("web", "api")),
                "created_at": now - timedelta(seconds=span * (count - i) / count),
            })
        db.session.execute(insert(UsageRecord), rows)
        done += len(rows)
    db.session.commit()
    usage_repo.rebuild_daily()  # bulk rows bypass the ORM, so the report rollup is rebuilt
