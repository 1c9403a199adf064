"""The usage ledger: what every vendor call cost, and who made it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app import metrics
from app.models import UsageRecord
from app.repositories import usage as repo
from app.services import usage_writer
from app.vendors import Route, Usage


def record(
    *,
    user_id: int | None,
    model: str,
    route: Route | None,
    usage: Usage,
    latency_ms: int,
    status: str,
    source: str,
    api_key_id: int | None = None,
) -> UsageRecord:
    """Add one row to the ledger (the caller commits)."""
    cost = route.cost(usage.input_tokens, usage.output_tokens) if route else Decimal(0)
    _count_tokens(route, usage)
    row = UsageRecord(
        user_id=user_id, api_key_id=api_key_id, model=model,
        route=route.label if route else "", input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens, cost=cost, latency_ms=latency_ms,
        status=status, source=source,
    )
    repo.add(row)
    return row


def submit(
    *,
    user_id: int | None,
    model: str,
    route: Route | None,
    usage: Usage,
    latency_ms: int,
    status: str,
    source: str,
    api_key_id: int | None = None,
) -> None:
    """Hand one ledger row to the usage writer (written in its next batch, stamped now)."""
    cost = route.cost(usage.input_tokens, usage.output_tokens) if route else Decimal(0)
    _count_tokens(route, usage)
    usage_writer.writer().submit({
        "user_id": user_id, "api_key_id": api_key_id, "model": model,
        "route": route.label if route else "", "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens, "cost": cost, "latency_ms": latency_ms,
        "status": status, "source": source, "created_at": datetime.now(UTC),
    })


def _count_tokens(route: Route | None, usage: Usage) -> None:
    if route is not None:
        metrics.count_tokens(route.credential.name, route.upstream_model,
                             usage.input_tokens, usage.output_tokens)
