"""The settings page: display name, password change, the user's own API keys."""

from __future__ import annotations

import re

from app.repositories import accounts as repo
from app.services import keys
from tests.conftest import PASSWORD, csrf_token, log_in


def _token(client) -> str:
    return csrf_token(client.get("/settings/").get_data(as_text=True))


def test_settings_page_has_labelled_controls(member_client):
    html = member_client.get("/settings/").get_data(as_text=True)
    for label in ("Display name", "Current password", "New password", "Repeat new password",
                  "Key name"):
        assert f">{label}</label>" in html


def test_display_name_change_is_saved(member_client, app):
    response = member_client.post("/settings/profile", data={
        "csrf_token": _token(member_client), "display_name": "  Ada  L. "})
    assert response.status_code == 302
    with app.app_context():
        assert repo.user_by_email("member@example.com").display_name == "Ada L."


def test_password_change_keeps_this_session_and_ends_the_others(member_client, app, make_user):
    elsewhere = app.test_client()
    log_in(elsewhere, "member@example.com")
    response = member_client.post("/settings/password", data={
        "csrf_token": _token(member_client), "current_password": PASSWORD,
        "new_password": "a brand new secret", "confirm": "a brand new secret"})
    assert response.status_code == 302
    assert member_client.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    fresh = app.test_client()
    assert log_in(fresh, "member@example.com", "a brand new secret").status_code == 302


def test_password_change_with_wrong_current_password_is_refused(member_client):
    response = member_client.post("/settings/password", data={
        "csrf_token": _token(member_client), "current_password": "wrong one",
        "new_password": "a brand new secret", "confirm": "a brand new secret"})
    assert response.status_code == 400
    assert "The current password is wrong." in response.get_data(as_text=True)


def test_key_is_shown_once_listed_and_revoked(member_client, app):
    created = member_client.post("/settings/keys", data={"csrf_token": _token(member_client),
                                                         "name": "laptop"})
    html = created.get_data(as_text=True)
    secret = re.search(r'<code id="new-key">([^<]+)</code>', html).group(1)
    assert created.headers["Cache-Control"] == "no-store"
    listing = member_client.get("/settings/").get_data(as_text=True)
    prefix = "-".join(secret.split("-")[:2])
    assert secret not in listing and prefix in listing and "laptop" in listing
    with app.app_context():
        key_id = keys.verify_key(secret).id
    member_client.post(f"/settings/keys/{key_id}/revoke",
                       data={"csrf_token": _token(member_client)})
    with app.app_context():
        assert keys.verify_key(secret) is None


def test_another_users_key_cannot_be_revoked(member_client, app, make_user):
    make_user("other@example.com")
    with app.app_context():
        other = repo.user_by_email("other@example.com")
        key, secret = keys.create_key(other, name="theirs")
        key_id = key.id
    response = member_client.post(f"/settings/keys/{key_id}/revoke",
                                  data={"csrf_token": _token(member_client)})
    assert response.status_code == 404
    assert "theirs" not in member_client.get("/settings/").get_data(as_text=True)
    with app.app_context():
        assert keys.verify_key(secret) is not None


def test_a_role_without_own_keys_is_offered_no_key_form_and_a_post_gets_403(client, app,
                                                                          make_user):
    from app.extensions import db
    from app.models import Role
    with app.app_context():
        db.session.add(Role(name="chatter", description="", permissions=["chat"]))
        db.session.commit()
    make_user("chatter@example.com", role="chatter")
    log_in(client, "chatter@example.com")
    assert ">Key name</label>" not in client.get("/settings/").get_data(as_text=True)
    refused = client.post("/settings/keys", data={"csrf_token": _token(client), "name": "x"})
    assert refused.status_code == 403
    with app.app_context():
        assert repo.keys_of_user(repo.user_by_email("chatter@example.com").id) == []
