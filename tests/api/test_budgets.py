"""Monthly token budgets per role: enforced before the vendor call, shown to the user."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Message
from app.repositories import accounts as accounts_repo
from tests.conftest import csrf_token, log_in

CHAT = {"model": "openai/fake-chat", "messages": [{"role": "user", "content": "hello there"}]}


def set_budget(app, tokens: int | None, role: str = "member") -> None:
    with app.app_context():
        accounts_repo.role_by_name(role).monthly_token_budget = tokens
        db.session.commit()


@pytest.fixture
def spent_key(app, make_key):
    """A member key whose one call used the whole 5-token monthly budget."""
    set_budget(app, 5)
    key = make_key()
    first = app.test_client().post("/v1/chat/completions", json=CHAT,
                                   headers={"Authorization": f"Bearer {key}"})
    assert first.status_code == 200  # the call that crosses the line still finishes
    return key


@pytest.mark.parametrize("stream", [False, True])
def test_spent_budget_gets_429_insufficient_quota_before_any_vendor_call(
        app, spent_key, fake_vendor, stream):
    calls = len(fake_vendor.requests)

    response = app.test_client().post("/v1/chat/completions", json=CHAT | {"stream": stream},
                                      headers={"Authorization": f"Bearer {spent_key}"})

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
                                      headers={"Authorization": f"Bearer {admin_key}"})

    assert response.status_code == 200


def test_spent_budget_shows_inline_in_the_chat_and_on_the_settings_page(app, spent_key,
                                                                        fake_vendor):
    client = app.test_client()
    log_in(client, "member@example.com")
    calls = len(fake_vendor.requests_for("fake-chat"))
    token = csrf_token(client.get("/").get_data(as_text=True))
    page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                   "message": "hi"}, follow_redirects=True)
    finals = [client.get(url).get_data(as_text=True)
              for url in re.findall(r'sse-connect="([^"]+)"', page.get_data(as_text=True))]

    assert "token budget" in "".join(finals)
    assert len(fake_vendor.requests_for("fake-chat")) == calls  # no vendor call
    with app.app_context():
        reply = db.session.scalars(db.select(Message).where(Message.role == "assistant")).one()
        assert reply.status == "error"
    settings = client.get("/settings/").get_data(as_text=True)
    assert re.search(r"<strong>0</strong> of 5 tokens left this month", settings)


def test_settings_page_shows_the_remaining_budget(app, make_user):
    set_budget(app, 1000)
    make_user("member@example.com")
    client = app.test_client()
    log_in(client, "member@example.com")

    page = client.get("/settings/").get_data(as_text=True)

    assert "<strong>1,000</strong> of 1,000 tokens left this month" in page
