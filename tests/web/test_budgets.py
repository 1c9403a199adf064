"""Monthly token budgets in the chat and on the settings page: the role's, the user's own
(overriding the role's) and each key's (which never limits the chat)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Message
from tests.budgets import MEMBER, set_budgets, set_role_budget, spend, spent_member_key
from tests.conftest import csrf_token, log_in


def test_spent_budget_shows_inline_in_the_chat_and_on_the_settings_page(app, make_key,
                                                                        fake_vendor):
    spent_member_key(app, make_key)
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
    set_role_budget(app, 1000)
    make_user("member@example.com")
    client = app.test_client()
    log_in(client, "member@example.com")

    page = client.get("/settings/").get_data(as_text=True)

    assert "<strong>1,000</strong> of 1,000 tokens left this month" in page


def test_chat_send_over_the_users_own_budget_is_refused_inline(app, make_key, fake_vendor):
    make_key(MEMBER)
    set_budgets(app, role=None, user=0)
    client = app.test_client()
    log_in(client, MEMBER)
    token = csrf_token(client.get("/").get_data(as_text=True))

    page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                   "message": "hi"}, follow_redirects=True)
    finals = "".join(client.get(url).get_data(as_text=True) for url in
                     re.findall(r'sse-connect="([^"]+)"', page.get_data(as_text=True)))

    assert "token budget of 0 tokens" in finals
    assert fake_vendor.requests_for("fake-chat") == []
    with app.app_context():
        reply = db.session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert reply.status == "error"


def test_a_key_budget_does_not_limit_the_owners_chat(app, make_key):
    capped = make_key(MEMBER)
    set_budgets(app, key=capped, key_budget=0)
    client = app.test_client()
    log_in(client, MEMBER)
    token = csrf_token(client.get("/").get_data(as_text=True))

    page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                   "message": "hi"}, follow_redirects=True)
    for url in re.findall(r'sse-connect="([^"]+)"', page.get_data(as_text=True)):
        client.get(url).get_data()

    with app.app_context():
        reply = db.session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert reply.status == "complete"


def test_settings_page_shows_the_effective_budget_its_source_and_each_keys_budget(
        app, make_key):
    capped, plain = make_key(MEMBER), make_key(MEMBER)
    set_budgets(app, role=100, user=2_000, key=capped, key_budget=500)
    spend(app, MEMBER, 120, capped)
    spend(app, MEMBER, 30, plain)
    client = app.test_client()
    log_in(client, MEMBER)

    page = client.get("/settings/").get_data(as_text=True)

    assert "<strong>1,850</strong> of 2,000 tokens left this month" in page
    assert "An administrator set this budget for you." in page
    cells = re.findall(r'<td class="key-budget">([^<]*)', page)
    assert sorted(cells) == ["120 of 500", "30"]

    set_budgets(app, role=100, user=None, key=capped, key_budget=500)
    page = client.get("/settings/").get_data(as_text=True)
    assert "<strong>0</strong> of 100 tokens left this month" in page
    assert "The budget of your role, member." in page
