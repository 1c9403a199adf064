"""Monthly dollar budgets in the chat (refused inline, before any vendor call) and on the
settings page (what is left, in dollars beside tokens)."""

from __future__ import annotations

import re

from tests.budgets import MEMBER, set_cost_budgets, spend_dollars
from tests.conftest import csrf_token, log_in


def test_chat_send_over_the_dollar_budget_is_refused_inline(app, make_key, fake_vendor):
    make_key(MEMBER)
    set_cost_budgets(app, user="2")
    spend_dollars(app, MEMBER, "2")
    client = app.test_client()
    log_in(client, MEMBER)
    token = csrf_token(client.get("/").get_data(as_text=True))

    page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                   "message": "hi"}, follow_redirects=True)
    finals = "".join(client.get(url).get_data(as_text=True) for url in
                     re.findall(r'sse-connect="([^"]+)"', page.get_data(as_text=True)))

    assert "You have used this month&#39;s budget of $2.00" in finals or \
        "You have used this month's budget of $2.00" in finals
    assert fake_vendor.requests_for("fake-chat") == []


def test_settings_page_shows_the_dollars_left(app, make_key):
    secret = make_key(MEMBER)
    set_cost_budgets(app, role="10", key=secret, key_budget="3")
    spend_dollars(app, MEMBER, "1.25", secret)
    client = app.test_client()
    log_in(client, MEMBER)

    page = client.get("/settings/").get_data(as_text=True)

    assert "<strong>$8.75</strong> of $10.00 left this month" in page
    assert "The budget of your role, member." in page
    assert "$1.25 of $3.00" in page  # the key's own


def test_chat_send_over_the_teams_dollar_budget_is_refused_inline(app, make_key, fake_vendor):
    from tests.budgets import make_team

    make_key(MEMBER)
    make_team(app, "platform", (MEMBER,), usd="0")
    client = app.test_client()
    log_in(client, MEMBER)
    token = csrf_token(client.get("/").get_data(as_text=True))

    page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                   "message": "hi"}, follow_redirects=True)
    finals = "".join(client.get(url).get_data(as_text=True) for url in
                     re.findall(r'sse-connect="([^"]+)"', page.get_data(as_text=True)))

    assert "Your team has used its monthly budget of $0.00" in finals
    assert fake_vendor.requests_for("fake-chat") == []


def test_settings_page_shows_the_teams_budgets(app, make_key):
    from tests.budgets import make_team

    make_key(MEMBER)
    make_team(app, "platform", (MEMBER,), usd="20")
    client = app.test_client()
    log_in(client, MEMBER)

    page = client.get("/settings/").get_data(as_text=True)

    assert "Team platform" in page
    assert "no token limit" in page and "<strong>$20.00</strong> of $20.00 left" in page
