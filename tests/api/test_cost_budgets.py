"""Monthly budgets in US dollars on /v1, for each owner kind (the role's, the user's own, a
key's own), checked before the vendor call: the call that crosses the line still finishes, the
next answers 429 in the caller's wire shape (OpenAI insufficient_quota, Anthropic
rate_limit_error), through the real SDKs."""

from __future__ import annotations

from decimal import Decimal

import anthropic
import openai
import pytest

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services.vendors import invalidate_catalog
from tests.budgets import MEMBER, set_cost_budgets, spend_dollars

MESSAGES = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def dear_routes(app):
    """``dear`` and ``dear-anthropic``: the fake's fake-chat at a dollar a token."""
    with app.app_context():
        openai_vendor = VendorCredential(name="openai", kind="openai-compatible")
        anthropic_vendor = VendorCredential(name="anthropic", kind="anthropic")
        price = {"input_price": Decimal(1_000_000), "output_price": Decimal(1_000_000)}
        db.session.add_all([
            ModelRoute(public_name="dear", credential=openai_vendor,
                       upstream_model="fake-chat", **price),
            ModelRoute(public_name="dear-anthropic", credential=anthropic_vendor,
                       upstream_model="fake-chat", **price)])
        db.session.commit()
        invalidate_catalog()


def test_role_dollar_budget_lets_the_crossing_call_finish_then_refuses_both_wire_shapes(
        app, dear_routes, openai_client, anthropic_client, fake_vendor):
    set_cost_budgets(app, role="3")

    crossing = openai_client.chat.completions.create(model="dear", messages=MESSAGES)
    assert crossing.usage.total_tokens > 3  # it cost more than the whole budget, and finished

    with pytest.raises(openai.RateLimitError) as refused:
        openai_client.chat.completions.create(model="dear", messages=MESSAGES)
    assert refused.value.code == "insufficient_quota"
    assert "this month's budget of $3.00" in refused.value.message
    assert int(refused.value.response.headers["retry-after"]) > 0
    with pytest.raises(anthropic.RateLimitError, match=r"budget of \$3\.00"):
        anthropic_client.messages.create(model="dear-anthropic", max_tokens=20,
                                         messages=MESSAGES)
    assert len(fake_vendor.requests_for("fake-chat")) == 1  # refusals reach no vendor


def test_users_own_dollar_budget_overrides_the_roles(app, openai_client, fake_vendor):
    set_cost_budgets(app, role=None, user="0")

    with pytest.raises(openai.RateLimitError, match=r"budget of \$0\.00"):
        openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
    assert fake_vendor.requests_for("fake-chat") == []

    set_cost_budgets(app, role="0", user="100")
    assert openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)


def test_key_dollar_budget_caps_only_that_key(app, live_server, make_key, fake_vendor):
    capped, other = make_key(MEMBER), make_key(MEMBER)
    set_cost_budgets(app, key=capped, key_budget="2.5")
    spend_dollars(app, MEMBER, "2.5", capped)

    with anthropic.Anthropic(base_url=live_server, api_key=capped, max_retries=0) as client:
        with pytest.raises(anthropic.RateLimitError,
                           match=r"This API key has used its monthly budget of \$2\.50"):
            client.messages.create(model="anthropic/fake-chat", max_tokens=20,
                                   messages=MESSAGES)
    with openai.OpenAI(base_url=live_server + "/v1", api_key=other, max_retries=0) as client:
        assert client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
    assert len(fake_vendor.requests_for("fake-chat")) == 1


def test_token_and_dollar_budgets_apply_side_by_side(app, openai_client):
    set_cost_budgets(app, role="100")
    with app.app_context():
        from app.repositories import accounts as accounts_repo

        accounts_repo.role_by_name("member").monthly_token_budget = 0
        db.session.commit()

    with pytest.raises(openai.RateLimitError, match="token budget of 0 tokens"):
        openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
