"""The price catalog (genai-prices): a call to a known model with no admin price is costed
from the catalog, cache tokens at its cache rates; an admin's own price wins; an unknown model
or an OpenAI-compatible server costs nothing; ``flask prices check`` lists unpriced routes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, UsageRecord, VendorCredential
from app.services import price_catalog
from app.services.vendors import invalidate_catalog

LONG = "A long, stable system prompt worth caching. " * 200
MODEL = "claude-sonnet-4-5"  # in the catalog: $3 in, $15 out, $0.30 cache read, $3.75 write


@pytest.fixture
def app(make_app, vendor_env, fake_vendor):
    fake_vendor.models = [*fake_vendor.models, MODEL]
    return make_app(**vendor_env)


def ledger(app) -> list[UsageRecord]:
    with app.app_context():
        rows = list(db.session.scalars(select(UsageRecord).order_by(UsageRecord.id)))
        db.session.expunge_all()
        return rows


def cost_at(row: UsageRecord, prices: price_catalog.Prices) -> Decimal:
    plain = row.input_tokens - row.cache_read_tokens - row.cache_write_tokens
    return ((plain * prices.input_price + row.cache_read_tokens * prices.cache_read_price
             + row.cache_write_tokens * prices.cache_write_price
             + row.output_tokens * prices.output_price) / 1_000_000).quantize(
        Decimal("0.000001"))


def cached_call(client, model: str):
    return client.messages.create(
        model=model, max_tokens=50, messages=[{"role": "user", "content": "hello"}],
        system=[{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}])


def test_a_known_model_without_an_admin_price_is_costed_from_the_catalog(app, anthropic_client):
    prices = price_catalog.lookup("anthropic", MODEL)
    assert prices == price_catalog.Prices(Decimal(3), Decimal(15), Decimal("0.3"),
                                          Decimal("3.75"))

    cached_call(anthropic_client, f"anthropic/{MODEL}")  # writes the prompt cache
    cached_call(anthropic_client, f"anthropic/{MODEL}")  # reads it
    written, read = ledger(app)

    assert written.cache_write_tokens > 0 and read.cache_read_tokens > 0
    assert written.cost == cost_at(written, prices) > 0
    assert read.cost == cost_at(read, prices) > 0
    assert read.cost < written.cost


def test_an_admin_price_wins_and_an_unpriced_route_uses_the_catalog(app, anthropic_client):
    with app.app_context():
        vendor = VendorCredential(name="anthropic", kind="anthropic")
        db.session.add_all([
            ModelRoute(public_name="house-priced", credential=vendor, upstream_model=MODEL,
                       input_price=Decimal(1), output_price=Decimal(1)),
            ModelRoute(public_name="unpriced", credential=vendor, upstream_model=MODEL)])
        db.session.commit()
        invalidate_catalog()
    request = dict(max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    anthropic_client.messages.create(model="house-priced", **request)
    anthropic_client.messages.create(model="unpriced", **request)
    house, catalog = ledger(app)

    assert house.cost == (Decimal(house.input_tokens + house.output_tokens) / 1_000_000
                          ).quantize(Decimal("0.000001"))
    assert catalog.cost == cost_at(catalog, price_catalog.lookup("anthropic", MODEL))


def test_unknown_models_and_self_hosted_servers_cost_nothing(app, openai_client):
    openai_client.chat.completions.create(model="openai/fake-chat",
                                          messages=[{"role": "user", "content": "hi"}])
    assert ledger(app)[0].cost == 0
    assert price_catalog.lookup("openai-compatible", "gpt-4o-mini") is None
    assert price_catalog.lookup("mock", "echo") is None


def test_prices_check_lists_routes_without_a_known_price(app):
    with app.app_context():
        vendor = VendorCredential(name="anthropic", kind="anthropic")
        db.session.add_all([
            ModelRoute(public_name="known", credential=vendor, upstream_model=MODEL),
            ModelRoute(public_name="house", credential=vendor, upstream_model="in-house-7b",
                       input_price=Decimal(1), output_price=Decimal(2)),
            ModelRoute(public_name="mystery", credential=vendor, upstream_model="in-house-7b")])
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["prices", "check"])

    assert result.exit_code == 0, result.output
    assert f"genai-prices {price_catalog.version()}" in result.output
    assert "no price: mystery (anthropic/in-house-7b)" in result.output
    listed = [line for line in result.output.splitlines() if line.startswith("no price:")]
    assert listed == ["no price: mystery (anthropic/in-house-7b)"]  # not known, not house
    assert "1 route(s) without a known price" in result.output


def test_models_screen_shows_the_catalog_version_and_where_prices_come_from(app, make_user):
    from tests.conftest import log_in

    with app.app_context():
        vendor = VendorCredential(name="anthropic", kind="anthropic")
        db.session.add_all([
            ModelRoute(public_name="known", credential=vendor, upstream_model=MODEL),
            ModelRoute(public_name="mystery", credential=vendor, upstream_model="in-house-7b")])
        db.session.commit()
    make_user("root@example.com", role="admin")
    client = app.test_client()
    log_in(client, "root@example.com")

    page = client.get("/admin/models/").get_data(as_text=True)

    assert f"genai-prices {price_catalog.version()}" in page
    assert '3.0000 / 15.0000 <span class="tag">catalog</span>' in page
    assert "<td>0.3000 / 3.7500</td>" in page  # the catalog's cache read / write
    assert '<span class="tag">no known price</span>' in page


def test_a_usage_row_keeps_the_prices_it_was_charged_at(app, anthropic_client):
    with app.app_context():
        vendor = VendorCredential(name="anthropic", kind="anthropic")
        db.session.add(ModelRoute(public_name="routed", credential=vendor,
                                  upstream_model=MODEL))
        db.session.commit()
        invalidate_catalog()
    request = dict(max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    anthropic_client.messages.create(model="routed", **request)
    with app.app_context():  # the admin prices the route later
        route = db.session.scalar(select(ModelRoute).where(ModelRoute.public_name == "routed"))
        route.input_price, route.output_price = Decimal(100), Decimal(100)
        db.session.commit()
        invalidate_catalog()
    anthropic_client.messages.create(model="routed", **request)
    before, after = ledger(app)

    assert (before.input_price, before.output_price, before.cache_read_price,
            before.cache_write_price) == (Decimal(3), Decimal(15), Decimal("0.3"),
                                          Decimal("3.75"))
    assert before.cost == cost_at(before, price_catalog.lookup("anthropic", MODEL))
    assert (after.input_price, after.output_price) == (Decimal(100), Decimal(100))
    assert after.cache_read_price == Decimal(100)  # no cache price: charged as input
