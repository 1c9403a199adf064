"""Monthly dollar budgets on the REST API: a send over a user's, role's or key's dollar budget
is refused in the reply before any vendor call, and /api/v1/me shows what is left in both
units."""

from __future__ import annotations

from tests.budgets import MEMBER, set_budgets, set_cost_budgets, spend_dollars
from tests.conftest import bearer, log_in


def _rest_send(client, headers: dict) -> dict:
    conversation = client.post("/api/v1/conversations", json={"model": "openai/fake-chat"},
                               headers=headers).get_json()["data"]
    response = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                           json={"content": "hi"}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]["reply"]


def test_rest_send_over_the_roles_dollar_budget_is_refused(app, make_key, fake_vendor):
    secret = make_key(MEMBER)
    set_cost_budgets(app, role="1")
    spend_dollars(app, MEMBER, "1.25")

    refused = _rest_send(app.test_client(), bearer(secret))

    assert refused["status"] == "error"
    assert "You have used this month's budget of $1.00" in refused["error"]
    assert fake_vendor.requests_for("fake-chat") == []


def test_rest_send_with_a_key_over_its_dollar_budget_is_refused_while_another_works(
        app, make_key, fake_vendor):
    capped, other = make_key(MEMBER), make_key(MEMBER)
    set_cost_budgets(app, key=capped, key_budget="0.5")
    spend_dollars(app, MEMBER, "0.5", capped)
    client = app.test_client()

    assert "This API key has used its monthly budget of $0.50" in _rest_send(
        client, bearer(capped))["error"]
    assert _rest_send(client, bearer(other))["status"] == "complete"


def test_me_shows_whats_left_in_tokens_and_dollars(app, make_key):
    capped = make_key(MEMBER)
    set_budgets(app, role=100)
    set_cost_budgets(app, role="10", user="20", key=capped, key_budget="4")
    spend_dollars(app, MEMBER, "1.5", capped)

    me = app.test_client().get("/api/v1/me", headers=bearer(capped)).get_json()["data"]

    assert me["budget"]["tokens"] == 100 and me["budget"]["remaining"] == 98
    assert {k: me["cost_budget"][k] for k in ("usd", "source", "used", "remaining")} == \
        {"usd": 20.0, "source": "user", "used": 1.5, "remaining": 18.5}
    assert {k: me["key_cost_budget"][k] for k in ("usd", "source", "used", "remaining")} == \
        {"usd": 4.0, "source": "key", "used": 1.5, "remaining": 2.5}
    session = app.test_client()
    log_in(session, MEMBER)
    data = session.get("/api/v1/me").get_json()["data"]
    assert data["key_cost_budget"] is None and data["cost_budget"]["remaining"] == 18.5


def test_rest_send_over_the_teams_token_budget_is_refused(app, make_key, fake_vendor):
    from tests.budgets import make_team

    secret = make_key(MEMBER)
    make_team(app, "platform", (MEMBER,), tokens=0)

    refused = _rest_send(app.test_client(), bearer(secret))

    assert refused["status"] == "error"
    assert "Your team has used its monthly budget of 0 tokens" in refused["error"]
    assert fake_vendor.requests_for("fake-chat") == []


def test_me_shows_the_teams_budgets_in_both_units(app, make_key):
    from tests.budgets import make_team

    secret = make_key(MEMBER)
    make_team(app, "platform", (MEMBER,), tokens=1000, usd="50")
    client = app.test_client()
    _rest_send(client, bearer(secret))

    team = client.get("/api/v1/me", headers=bearer(secret)).get_json()["data"]["team"]

    assert team["name"] == "platform"
    assert team["budget"]["tokens"] == 1000 and 0 < team["budget"]["used"] < 1000
    assert team["budget"]["remaining"] == 1000 - team["budget"]["used"]
    assert {k: team["cost_budget"][k] for k in ("usd", "source", "remaining")} == {
        "usd": 50.0, "source": "team", "remaining": 50.0}


def test_me_without_a_team_says_so(app, make_key):
    secret = make_key(MEMBER)
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).get_json()[
        "data"]["team"] is None
