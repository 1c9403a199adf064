"""Users through the admin API: the same rules and audit events as /admin/users."""

from __future__ import annotations

import json

from tests.api_admin.conftest import ADMIN_EMAIL, audit_trail, user_id
from tests.conftest import PASSWORD, log_in

NEW = {"email": "Carol@Example.com", "password": "a long password", "role": "member",
       "display_name": "Carol"}


def test_user_is_created_read_listed_updated_and_deleted(app, api):
    created = api("post", "/users", json=NEW)
    assert created.status_code == 201
    user = created.get_json()["data"]
    assert user["email"] == "carol@example.com" and user["role"] == "member"
    assert user["enabled"] is True and "password" not in str(created.get_json())
    assert api("get", f"/users/{user['id']}").get_json()["data"] == user

    listed = api("get", "/users?q=caro&per_page=1").get_json()
    assert [u["email"] for u in listed["data"]] == ["carol@example.com"]
    assert listed["meta"] == {"page": 1, "per_page": 1, "total": 1, "has_more": False}
    assert api("get", "/users?page=9").get_json()["data"] == []

    changed = api("patch", f"/users/{user['id']}", json={"display_name": "  Carol  B ",
                                                          "role": "admin"})
    assert changed.status_code == 200
    assert changed.get_json()["data"]["display_name"] == "Carol B"
    assert changed.get_json()["data"]["role"] == "admin"

    assert api("delete", f"/users/{user['id']}").status_code == 204
    assert api("get", f"/users/{user['id']}").status_code == 404
    admin_id = user_id(app, ADMIN_EMAIL)
    events = [(e["action"], e["target"]) for e in audit_trail(app)
              if e["actor_id"] == admin_id and e["ip"] == "127.0.0.1"]
    assert events == [("user.created", "user:carol@example.com"),
                      ("user.renamed", "user:carol@example.com"),
                      ("user.role_changed", "user:carol@example.com"),
                      ("user.deleted", "user:carol@example.com")]


def test_bad_user_input_is_a_400_naming_the_problem(api):
    api("post", "/users", json=NEW)
    duplicate = api("post", "/users", json=NEW)
    assert duplicate.status_code == 400
    assert api("post", "/users", json={**NEW, "email": "d@example.com", "role": "nope"}
               ).status_code == 400
    unknown_field = api("post", "/users", json={**NEW, "is_admin": True})
    assert unknown_field.status_code == 400
    assert unknown_field.get_json()["error"]["details"][0]["field"] == "is_admin"
    assert api("patch", "/users/999", json={}).status_code == 404


def test_disabling_a_user_stops_their_key_on_the_next_request(app, api, make_key):
    headers = make_key("dave@example.com")
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
    dave = user_id(app, "dave@example.com")
    assert api("patch", f"/users/{dave}", json={"enabled": False}).get_json()["data"][
        "enabled"] is False
    other = app.test_client()
    assert other.get("/api/v1/me", headers=headers).status_code == 401
    assert other.get("/v1/models", headers=headers).status_code == 401
    assert api("patch", f"/users/{dave}", json={"enabled": True}).status_code == 200
    assert other.get("/v1/models", headers=headers).status_code == 200


def test_admin_cannot_disable_or_delete_themselves(app, api):
    me = user_id(app, ADMIN_EMAIL)
    refused = api("patch", f"/users/{me}", json={"enabled": False})
    assert refused.status_code == 400
    assert "your own account" in refused.get_json()["error"]["message"]
    deleted = api("delete", f"/users/{me}")
    assert deleted.status_code == 409 and deleted.get_json()["error"]["code"] == "conflict"


def test_password_reset_ends_sessions_and_can_revoke_keys(app, api, make_key):
    headers = make_key("erin@example.com")
    browser = app.test_client()
    log_in(browser, "erin@example.com")
    erin = user_id(app, "erin@example.com")
    too_short = api("post", f"/users/{erin}/password", json={"password": "short"})
    assert too_short.status_code == 400
    reset = api("post", f"/users/{erin}/password",
                json={"password": "a brand new password", "revoke_keys": True})
    assert reset.status_code == 204
    assert browser.get("/settings/").status_code == 302  # the session ended
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert log_in(app.test_client(), "erin@example.com", PASSWORD).status_code != 302
    assert log_in(app.test_client(), "erin@example.com", "a brand new password"
                  ).status_code == 302
    trail = json.dumps(audit_trail(app))
    assert "user.password_reset" in trail and "a brand new password" not in trail
