"""Users screen: list, search, paging, create, role, disable, password reset and delete."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Conversation, Role, User
from app.services import keys
from tests.admin.conftest import ADMIN_EMAIL, post_form
from tests.conftest import PASSWORD, log_in


def _user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def test_admin_creates_a_user_who_can_then_log_in(app, admin_client):
    response = post_form(admin_client, "/admin/users/", "/admin/users/", {
        "email": "New@Example.com", "display_name": "Newbie", "role": "member",
        "password": "long enough pw"})
    assert response.status_code == 302
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "new@example.com" in html and "Newbie" in html
    fresh = app.test_client()
    assert log_in(fresh, "new@example.com", "long enough pw").headers["Location"] == "/"


def test_create_user_shows_validation_messages_inline(admin_client, make_user):
    response = post_form(admin_client, "/admin/users/", "/admin/users/", {
        "email": "not-an-email", "role": "member", "password": "short"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The password needs 8 to 1024 characters." in html
    make_user("taken@example.com")
    response = post_form(admin_client, "/admin/users/", "/admin/users/", {
        "email": "taken@example.com", "role": "member", "password": "long enough pw"})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    response = post_form(admin_client, "/admin/users/", "/admin/users/", {
        "email": "bad", "role": "member", "password": "long enough pw"})
    assert "Enter a valid e-mail address." in response.get_data(as_text=True)


def test_user_list_searches_and_pages(app, admin_client):
    with app.app_context():
        member = db.session.scalar(select(Role).where(Role.name == "member"))
        db.session.add_all(User(email=f"user{i:02}@example.com", display_name=f"U {i}",
                                password_hash="x", role=member) for i in range(30))
        db.session.commit()
    first = admin_client.get("/admin/users/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "user00@example.com" in first
    second = admin_client.get("/admin/users/?page=2").get_data(as_text=True)
    assert "user29@example.com" in second and "user00@example.com" not in second
    found = admin_client.get("/admin/users/?q=user07").get_data(as_text=True)
    assert "user07@example.com" in found and "user08@example.com" not in found
    fragment = admin_client.get("/admin/users/?q=user07", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)  # htmx gets the table only
    assert "user07@example.com" in fragment.get_data(as_text=True)


def test_role_change_takes_effect(app, admin_client, make_user):
    user_id = make_user("member@example.com")
    response = post_form(admin_client, f"/admin/users/{user_id}",
                         f"/admin/users/{user_id}/role", {"role": "admin"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).role.name == "admin"


def test_disabled_user_loses_session_and_api_key_on_next_request(app, admin_client, make_user):
    user_id = make_user("member@example.com")
    with app.app_context():
        _, secret = keys.create_key(db.session.get(User, user_id))
    member = app.test_client()
    log_in(member, "member@example.com")
    assert member.get("/").status_code == 200

    post_form(admin_client, f"/admin/users/{user_id}", f"/admin/users/{user_id}/enabled",
              {"enabled": "0"})

    assert member.get("/").headers["Location"].startswith("/login")
    with app.app_context():
        assert keys.verify_key(secret) is None
        assert db.session.get(User, user_id).is_enabled is False
    assert log_in(app.test_client(), "member@example.com").status_code == 200  # refused


def test_password_reset_ends_sessions_and_can_revoke_keys(app, admin_client, make_user):
    user_id = make_user("member@example.com")
    with app.app_context():
        _, secret = keys.create_key(db.session.get(User, user_id))
    member = app.test_client()
    log_in(member, "member@example.com")

    short = post_form(admin_client, f"/admin/users/{user_id}",
                      f"/admin/users/{user_id}/password", {"password": "short"})
    assert short.status_code == 400 and "needs 8 to 1024 characters" in short.get_data(as_text=True)
    post_form(admin_client, f"/admin/users/{user_id}", f"/admin/users/{user_id}/password",
              {"password": "a brand new password", "revoke_keys": "y"})

    assert member.get("/").headers["Location"].startswith("/login")
    assert log_in(app.test_client(), "member@example.com", PASSWORD).status_code == 200
    assert log_in(app.test_client(), "member@example.com", "a brand new password").status_code \
        == 302
    with app.app_context():
        assert keys.verify_key(secret) is None


def test_delete_asks_first_then_removes_user_and_conversations(app, admin_client, make_user):
    user_id = make_user("member@example.com")
    with app.app_context():
        db.session.add(Conversation(user_id=user_id, model="mock/echo"))
        db.session.commit()
    page = admin_client.get(f"/admin/users/{user_id}/delete").get_data(as_text=True)
    assert "cannot be undone" in page
    response = post_form(admin_client, f"/admin/users/{user_id}/delete",
                         f"/admin/users/{user_id}/delete")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id) is None
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_admin_cannot_disable_or_delete_themself(app, admin_client):
    admin_id = _user_id(app, ADMIN_EMAIL)
    response = post_form(admin_client, f"/admin/users/{admin_id}",
                         f"/admin/users/{admin_id}/enabled", {"enabled": "0"},
                         follow_redirects=True)
    assert "You cannot disable your own account." in response.get_data(as_text=True)
    response = post_form(admin_client, f"/admin/users/{admin_id}/delete",
                         f"/admin/users/{admin_id}/delete")
    assert response.status_code == 400
    assert "You cannot delete your own account." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin_id).is_enabled


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/admin/users/999").status_code == 404
