"""Roles and API keys through the admin API: the services' rules, audited, no key hash shown."""

from __future__ import annotations

import json

from tests.api_admin.conftest import audit_trail, user_id

ROLE = {"name": "analyst", "permissions": ["chat", "api"], "allowed_models": ["openai/*"],
        "rate_limit": "60/minute", "monthly_token_budget": 5000}


def role_named(api, name: str) -> dict:
    return next(r for r in api("get", "/roles").get_json()["data"] if r["name"] == name)


def test_role_is_created_patched_field_by_field_and_deleted(app, api):
    created = api("post", "/roles", json=ROLE)
    assert created.status_code == 201
    role = created.get_json()["data"]
    assert {k: role[k] for k in ROLE} == ROLE and role["builtin"] is False
    assert role["users"] == 0

    patched = api("patch", f"/roles/{role['id']}", json={"rate_limit": "10 per day"})
    assert patched.status_code == 200
    assert {**role, "rate_limit": "10 per day"} == patched.get_json()["data"]
    cleared = api("patch", f"/roles/{role['id']}",
                  json={"allowed_models": None, "monthly_token_budget": None,
                        "permissions": ["chat"]}).get_json()["data"]
    assert cleared["allowed_models"] is None and cleared["monthly_token_budget"] is None
    assert cleared["permissions"] == ["chat"] and cleared["rate_limit"] == "10 per day"
    assert api("get", f"/roles/{role['id']}").get_json()["data"] == cleared

    assert api("delete", f"/roles/{role['id']}").status_code == 204
    assert api("get", f"/roles/{role['id']}").status_code == 404
    assert [e["action"] for e in audit_trail(app)] == ["role.created", "role.updated",
                                                       "role.updated", "role.deleted"]


def test_bad_role_changes_are_refused_with_the_field_named(api):
    bad_limit = api("post", "/roles", json={**ROLE, "rate_limit": "lots"})
    assert bad_limit.status_code == 400
    assert bad_limit.get_json()["error"]["details"][0]["field"] == "rate_limit"
    assert api("post", "/roles", json={**ROLE, "permissions": ["root"]}).status_code == 400
    assert api("post", "/roles", json={**ROLE, "name": "Admin"}).status_code == 400  # exists
    admin = role_named(api, "admin")
    keeps_admin = api("patch", f"/roles/{admin['id']}", json={"permissions": ["chat"]})
    assert keeps_admin.status_code == 400
    assert api("patch", f"/roles/{admin['id']}", json={"name": None}).status_code == 400


def test_built_in_and_held_roles_cannot_be_deleted(api):
    member = role_named(api, "member")
    refused = api("delete", f"/roles/{member['id']}")
    assert refused.status_code == 409
    assert "Built-in" in refused.get_json()["error"]["message"]
    role = api("post", "/roles", json=ROLE).get_json()["data"]
    api("post", "/users", json={"email": "x@example.com", "password": "a long password",
                                "role": "analyst"})
    held = api("delete", f"/roles/{role['id']}")
    assert held.status_code == 409 and "still have the role" in held.get_json()["error"][
        "message"]


def test_admin_creates_a_key_for_a_user_shown_once_and_revokes_it(app, api, client, make_key):
    make_key("fay@example.com")
    fay = user_id(app, "fay@example.com")
    created = api("post", "/keys", json={"user_id": fay, "name": "ci", "scopes": ["api"],
                                         "expires_in_days": 30})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    key = created.get_json()["data"]
    assert key["owner"] == "fay@example.com" and key["scopes"] == ["api"]
    assert key["status"] == "active" and key["expires_at"]
    secret = key.pop("secret")
    fay_headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/models", headers=fay_headers).status_code == 200

    listed = api("get", "/keys?owner=FAY&per_page=1").get_json()
    assert listed["meta"] == {"page": 1, "per_page": 1, "total": 2, "has_more": True}
    assert listed["data"][0]["prefix"] == key["prefix"]
    everything = json.dumps(api("get", "/keys?per_page=100").get_json())
    assert secret not in everything and "hash" not in everything

    assert api("delete", f"/keys/{key['id']}").status_code == 204
    assert client.get("/v1/models", headers=fay_headers).status_code == 401
    assert api("get", "/keys?owner=fay").get_json()["data"][0]["status"] == "revoked"
    assert api("delete", "/keys/9999").status_code == 404
    trail = audit_trail(app)
    assert [e["action"] for e in trail] == ["key.created", "key.revoked"]
    assert secret not in json.dumps(trail)


def test_key_for_an_unknown_user_or_with_bad_scopes_is_a_400(api):
    unknown = api("post", "/keys", json={"user_id": 4242})
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["details"][0]["field"] == "user_id"
    assert api("post", "/keys", json={"user_id": 1, "scopes": ["Bad Scope!"]}).status_code == 400
    assert api("post", "/keys", json={"user_id": 1, "expires_in_days": 0}).status_code == 400
