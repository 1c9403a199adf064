"""Monthly token budgets on the REST API: a spent key's or user's send is refused in the
reply, and /api/v1/me shows the user's budget and the calling key's."""

from __future__ import annotations

from tests.budgets import MEMBER, set_budgets, spend
from tests.conftest import bearer, log_in


def _rest_send(client, headers: dict) -> dict:
    conversation = client.post("/api/v1/conversations", json={"model": "openai/fake-chat"},
                               headers=headers).get_json()["data"]
    response = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                           json={"content": "hi"}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]["reply"]


def test_rest_send_with_a_spent_key_is_refused_in_the_reply_while_another_key_works(
        app, make_key, fake_vendor):
    capped, other = make_key(MEMBER), make_key(MEMBER)
    set_budgets(app, key=capped, key_budget=3)
    spend(app, MEMBER, 3, capped)
    client = app.test_client()

    refused = _rest_send(client, bearer(capped))

    assert refused["status"] == "error"
    assert "This API key has used its monthly token budget of 3 tokens" in refused["error"]
    assert fake_vendor.requests_for("fake-chat") == []
    assert _rest_send(client, bearer(other))["status"] == "complete"


def test_rest_send_by_a_user_over_their_own_budget_is_refused(app, make_key, fake_vendor):
    secret = make_key(MEMBER)
    set_budgets(app, role=None, user=0)

    refused = _rest_send(app.test_client(), bearer(secret))

    assert refused["status"] == "error" and "You have used" in refused["error"]
    assert fake_vendor.requests_for("fake-chat") == []


def test_me_shows_the_users_budget_and_the_calling_keys(app, make_key):
    capped = make_key(MEMBER)
    set_budgets(app, role=100, user=None, key=capped, key_budget=50)
    spend(app, MEMBER, 20, capped)

    me = app.test_client().get("/api/v1/me", headers=bearer(capped)).get_json()["data"]

    assert {k: me["budget"][k] for k in ("tokens", "source", "used", "remaining")} == \
        {"tokens": 100, "source": "role", "used": 20, "remaining": 80}
    assert {k: me["key_budget"][k] for k in ("tokens", "source", "used", "remaining")} == \
        {"tokens": 50, "source": "key", "used": 20, "remaining": 30}
    session = app.test_client()
    log_in(session, MEMBER)
    assert session.get("/api/v1/me").get_json()["data"]["key_budget"] is None
