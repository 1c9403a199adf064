"""The usage ledger: what every vendor call cost, and who made it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app import metrics
from app.models import UsageRecord
from app.repositories import usage as repo
from app.services import usage_writer
from app.vendors import Route, Usage


def record(**call) -> UsageRecord:
    """Add one row to the ledger in the caller's transaction (the caller commits); ``call`` as
    for :func:`ledger_row`."""
    row = UsageRecord(**ledger_row(**call))
    repo.add(row)
    return row


def submit(**call) -> None:
    """Hand one ledger row to the usage writer: written in its next batch, off the request."""
    usage_writer.writer().submit(ledger_row(**call))


def _charged_at(route: Route | None) -> dict:
    """The prices the call is charged at, as the ledger keeps them (cache prices as charged:
    the input price when the route has none of its own)."""
    if route is None:
        return {"input_price": None, "output_price": None, "cache_read_price": None,
                "cache_write_price": None}
    return {"input_price": route.input_price, "output_price": route.output_price,
            "cache_read_price": route.input_price if route.cache_read_price is None
            else route.cache_read_price,
            "cache_write_price": route.input_price if route.cache_write_price is None
            else route.cache_write_price}


def ledger_row(
    *,
    user_id: int | None,
    model: str,
    route: Route | None,
    usage: Usage,
    latency_ms: int,
    status: str,
    source: str,
    api_key_id: int | None = None,
    tags: tuple[str, ...] = (),
    team_id: int | None = None,
) -> dict:
    """The ``usage_records`` columns of one call, stamped now (its tokens are counted in the
    metrics as they are)."""
    if route is not None:
        metrics.count_tokens(route.credential.name, route.upstream_model,
                             usage.input_tokens, usage.output_tokens)
    return {
        "user_id": user_id, "api_key_id": api_key_id, "model": model,
        "route": route.label if route else "", "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens, "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cost": route.cost(usage) if route else Decimal(0),
        "latency_ms": latency_ms, "status": status, "source": source, "tags": ",".join(tags),
        "team_id": team_id, **_charged_at(route),
        "created_at": datetime.now(UTC),
    }
