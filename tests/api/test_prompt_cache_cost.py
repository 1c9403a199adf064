"""Prompt caching in the usage ledger, through the real SDKs against the fake vendor: each
row stores the call's cache-read and cache-write tokens and prices them at the route's own
cache rates (OpenAI's cached_tokens are part of the prompt tokens: charged at the cache-read
rate instead of the input rate). A route without cache prices charges them as input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, UsageDaily, UsageRecord, VendorCredential
from app.services.vendors import invalidate_catalog

CACHED = {"type": "ephemeral"}
LONG = "A long, stable system prompt worth caching. " * 200
# USD per million tokens: input, output, cache read, cache write.
PRICES = dict(input_price=Decimal(3), output_price=Decimal(15),
              cache_read_price=Decimal("0.3"), cache_write_price=Decimal("3.75"))


@pytest.fixture
def priced_routes(app):
    """``priced-openai`` and ``priced-anthropic`` (the fake's fake-chat) with cache prices;
    ``plain-anthropic`` with input/output prices only."""
    with app.app_context():
        openai_vendor = VendorCredential(name="openai", kind="openai-compatible")
        anthropic_vendor = VendorCredential(name="anthropic", kind="anthropic")
        db.session.add_all([
            ModelRoute(public_name="priced-openai", credential=openai_vendor,
                       upstream_model="fake-chat", **PRICES),
            ModelRoute(public_name="priced-anthropic", credential=anthropic_vendor,
                       upstream_model="fake-chat", **PRICES),
            ModelRoute(public_name="plain-anthropic", credential=anthropic_vendor,
                       upstream_model="fake-chat", input_price=Decimal(3),
                       output_price=Decimal(15))])
        db.session.commit()
        invalidate_catalog()


@pytest.fixture
def ledger(app):
    def read() -> list[UsageRecord]:
        with app.app_context():
            rows = list(db.session.scalars(select(UsageRecord).order_by(UsageRecord.id)))
            db.session.expunge_all()
            return rows

    return read


def expected_cost(row: UsageRecord, input_price=Decimal(3), read=Decimal("0.3"),
                  write=Decimal("3.75")) -> Decimal:
    plain = row.input_tokens - row.cache_read_tokens - row.cache_write_tokens
    return ((plain * input_price + row.cache_read_tokens * read
             + row.cache_write_tokens * write + row.output_tokens * Decimal(15))
            / 1_000_000).quantize(Decimal("0.000001"))


def anthropic_call(client, model: str, stream: bool, prefix: str):
    request = dict(model=model, max_tokens=100,
                   system=[{"type": "text", "text": LONG + prefix, "cache_control": CACHED}],
                   messages=[{"role": "user", "content": "hello"}])
    if not stream:
        return client.messages.create(**request).usage
    with client.messages.stream(**request) as events:
        return events.get_final_message().usage


def openai_call(client, model: str, stream: bool, key: str):
    request = dict(model=model, messages=[{"role": "system", "content": LONG},
                                          {"role": "user", "content": "hello"}],
                   prompt_cache_key=key)
    if not stream:
        return client.chat.completions.create(**request).usage
    chunks = list(client.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}))
    return chunks[-1].usage


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_anthropic_cache_write_then_read_are_stored_and_priced_at_their_rates(
        anthropic_client, priced_routes, ledger, stream):
    written = anthropic_call(anthropic_client, "priced-anthropic", stream, f"Prefix {stream}")
    read = anthropic_call(anthropic_client, "priced-anthropic", stream, f"Prefix {stream}")
    first, second = ledger()
    assert written.cache_creation_input_tokens > 0
    assert (first.cache_write_tokens, first.cache_read_tokens) == (
        written.cache_creation_input_tokens, 0)
    assert (second.cache_read_tokens, second.cache_write_tokens) == (
        read.cache_read_input_tokens, 0)
    assert second.cache_read_tokens == first.cache_write_tokens > 0
    # Parlor's input tokens count the cached ones too (the ledger's budgets see them all).
    assert first.input_tokens == second.input_tokens == first.cache_write_tokens
    assert first.cost == expected_cost(first) > 0
    assert second.cost == expected_cost(second)
    assert first.cost > second.cost  # writing the cache costs more than reading it


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_openai_cached_prompt_tokens_are_charged_at_the_cache_read_rate(
        openai_client, priced_routes, ledger, stream):
    openai_call(openai_client, "priced-openai", stream, f"conversation-{stream}")
    usage = openai_call(openai_client, "priced-openai", stream, f"conversation-{stream}")
    first, second = ledger()
    assert (first.cache_read_tokens, first.cache_write_tokens) == (0, 0)
    assert first.cost == expected_cost(first)
    cached = usage.prompt_tokens_details.cached_tokens
    assert cached > 0 and (second.cache_read_tokens, second.cache_write_tokens) == (cached, 0)
    assert second.input_tokens == usage.prompt_tokens  # cached tokens are within the prompt
    assert second.cost == expected_cost(second)
    assert second.cost < first.cost


def test_a_route_without_cache_prices_charges_cache_tokens_as_input(
        anthropic_client, priced_routes, ledger):
    anthropic_call(anthropic_client, "plain-anthropic", False, "Unpriced prefix")
    anthropic_call(anthropic_client, "plain-anthropic", False, "Unpriced prefix")
    first, second = ledger()
    assert first.cache_write_tokens > 0 and second.cache_read_tokens > 0
    for row in (first, second):
        assert row.cost == expected_cost(row, read=Decimal(3), write=Decimal(3))


def test_the_daily_rollup_sums_cache_tokens(app, anthropic_client, priced_routes, ledger):
    anthropic_call(anthropic_client, "priced-anthropic", False, "Rolled-up prefix")
    anthropic_call(anthropic_client, "priced-anthropic", True, "Rolled-up prefix")
    first, second = ledger()
    with app.app_context():
        [daily] = db.session.scalars(select(UsageDaily))
        assert (daily.cache_write_tokens, daily.cache_read_tokens) == (
            first.cache_write_tokens, second.cache_read_tokens)
        assert daily.cost == first.cost + second.cost
