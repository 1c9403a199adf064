"""The admin API sets and clears users' and keys' monthly token budgets (audited, bad values
refused naming the field); a key's budget set there is enforced on /v1."""

from __future__ import annotations

import pytest

from tests.api_admin.conftest import audit_trail
from tests.budgets import CHAT, MEMBER, assert_insufficient_quota, key_id, user_id
from tests.conftest import bearer, new_key


def test_admin_api_sets_and_clears_a_users_budget(app, api, make_key):
    make_key(MEMBER)
    member = user_id(app, MEMBER)

    patched = api("patch", f"/users/{member}", json={"monthly_token_budget": 7000})
    assert patched.status_code == 200
    assert patched.get_json()["data"]["monthly_token_budget"] == 7000
    renamed = api("patch", f"/users/{member}", json={"display_name": "Mem"})
    assert renamed.get_json()["data"]["monthly_token_budget"] == 7000  # not sent: unchanged
    cleared = api("patch", f"/users/{member}", json={"monthly_token_budget": None})
    assert cleared.get_json()["data"]["monthly_token_budget"] is None

    assert [(e["detail"]["before"], e["detail"]["after"]) for e in audit_trail(app)
            if e["action"] == "user.budget_changed"] == [(None, 7000), (7000, None)]


@pytest.mark.parametrize("value", [-1, 2**31, "100", True, 1.5])
def test_admin_api_refuses_bad_budgets_naming_the_field(app, api, value):
    secret = new_key(app, MEMBER)

    for path in (f"/users/{user_id(app, MEMBER)}", f"/keys/{key_id(app, secret)}"):
        response = api("patch", path, json={"monthly_token_budget": value})
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["error"]["details"][0]["field"] == "monthly_token_budget"
    created = api("post", "/keys", json={"user_id": user_id(app, MEMBER),
                                         "monthly_token_budget": value})
    assert created.status_code == 400


def test_admin_api_creates_a_key_with_a_budget_then_changes_and_clears_it(app, api,
                                                                          make_key):
    make_key(MEMBER)
    created = api("post", "/keys", json={"user_id": user_id(app, MEMBER),
                                         "monthly_token_budget": 1200})
    assert created.status_code == 201
    key = created.get_json()["data"]
    assert key["monthly_token_budget"] == 1200

    patched = api("patch", f"/keys/{key['id']}", json={"monthly_token_budget": 10})
    assert patched.status_code == 200 and patched.get_json()["data"]["monthly_token_budget"] == 10
    unchanged = api("patch", f"/keys/{key['id']}", json={})
    assert unchanged.get_json()["data"]["monthly_token_budget"] == 10
    cleared = api("patch", f"/keys/{key['id']}", json={"monthly_token_budget": None})
    assert cleared.get_json()["data"]["monthly_token_budget"] is None
    listed = api("get", "/keys").get_json()["data"]
    assert next(k for k in listed if k["id"] == key["id"])["monthly_token_budget"] is None

    assert api("patch", "/keys/999999", json={}).status_code == 404
    assert api("patch", f"/keys/{key['id']}", json={"rate": 1}).status_code == 400
    assert [(e["detail"]["before"], e["detail"]["after"]) for e in audit_trail(app)
            if e["action"] == "key.budget_changed"] == [(1200, 10), (10, None)]


def test_admin_api_key_budget_is_enforced_on_v1(app, api, make_key):
    make_key(MEMBER)
    created = api("post", "/keys", json={"user_id": user_id(app, MEMBER),
                                         "monthly_token_budget": 0}).get_json()["data"]

    assert_insufficient_quota(
        app.test_client().post("/v1/chat/completions", json=CHAT,
                               headers=bearer(created["secret"])),
        "This API key has used its monthly token budget of 0 tokens")
