"""Monthly token budgets per role on /v1: enforced before the vendor call."""

from __future__ import annotations

import pytest

from tests.budgets import CHAT, spent_member_key
from tests.conftest import bearer


@pytest.fixture
def spent_key(app, make_key):
    return spent_member_key(app, make_key)


@pytest.mark.parametrize("stream", [False, True])
def test_spent_budget_gets_429_insufficient_quota_before_any_vendor_call(
        app, spent_key, fake_vendor, stream):
    calls = len(fake_vendor.requests)

    response = app.test_client().post("/v1/chat/completions", json=CHAT | {"stream": stream},
                                      headers=bearer(spent_key))

    assert response.status_code == 429
    error = response.get_json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert response.headers["x-should-retry"] == "false"
    assert int(response.headers["Retry-After"]) > 0
    assert len(fake_vendor.requests) == calls


def test_spent_budget_on_v1_messages_answers_in_anthropic_shape(app, spent_key):
    response = app.test_client().post(
        "/v1/messages", headers={"x-api-key": spent_key},
        json={"model": "anthropic/fake-chat", "max_tokens": 20,
              "messages": [{"role": "user", "content": "hi"}]})

    assert response.status_code == 429
    assert response.get_json()["error"]["type"] == "rate_limit_error"
    assert "budget" in response.get_json()["error"]["message"]


def test_other_roles_and_unlimited_roles_are_not_refused(app, spent_key, make_key):
    admin_key = make_key("admin@example.com", role="admin")

    response = app.test_client().post("/v1/chat/completions", json=CHAT,
                                      headers=bearer(admin_key))

    assert response.status_code == 200
