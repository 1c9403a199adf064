"""Audit screen: admin actions and security events, with actor, IP and target, no secrets."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from tests.admin.conftest import ADMIN_EMAIL, post_form
from tests.admin.test_vendors import _add_fake_vendor
from tests.conftest import log_in
from tests.fakes.vendor_server import DEFAULT_API_KEY


def test_admin_actions_and_login_failures_are_audited_without_secrets(app, admin_client,
                                                                      make_user, fake_vendor):
    user_id = make_user("member@example.com")
    log_in(app.test_client(), "member@example.com", "wrong password!")
    post_form(admin_client, "/admin/users/", "/admin/users/", {
        "email": "new@example.com", "role": "member", "password": "initial secret pw"})
    post_form(admin_client, f"/admin/users/{user_id}", f"/admin/users/{user_id}/role",
              {"role": "admin"})
    post_form(admin_client, f"/admin/users/{user_id}", f"/admin/users/{user_id}/password",
              {"password": "another secret pw"})
    post_form(admin_client, f"/admin/users/{user_id}", f"/admin/users/{user_id}/enabled",
              {"enabled": "0"})
    created = post_form(admin_client, "/admin/keys/", "/admin/keys/",
                        {"email": "new@example.com", "name": "ci"})
    secret = created.get_data(as_text=True).split('id="new-secret" value="')[1].split('"')[0]
    assert secret.startswith("pk-")
    _add_fake_vendor(admin_client, fake_vendor)

    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    actions = [e.action for e in events]
    for action in ("login.failed", "user.created", "user.role_changed", "user.password_reset",
                   "user.disabled", "key.created", "vendor.created"):
        assert action in actions
    everything = repr([(e.action, e.target, e.detail) for e in events])
    for secret_text in ("initial secret pw", "another secret pw", secret, DEFAULT_API_KEY,
                        "wrong password!"):
        assert secret_text not in everything
    admin_events = [e for e in events if e.action != "login.failed"]
    assert all(e.actor_id is not None and e.ip == "127.0.0.1" for e in admin_events)

    html = admin_client.get("/admin/audit/").get_data(as_text=True)
    assert "user.role_changed" in html and ADMIN_EMAIL in html and "user:member@example.com" in html
    for secret_text in (secret, DEFAULT_API_KEY, "initial secret pw"):
        assert secret_text not in html


def test_audit_filters_by_action_actor_and_date(app, admin_client, make_user):
    make_user("member@example.com")
    log_in(app.test_client(), "member@example.com", "wrong password!")
    post_form(admin_client, "/admin/users/", "/admin/users/", {
        "email": "new@example.com", "role": "member", "password": "initial secret pw"})
    by_action = admin_client.get("/admin/audit/?action=login.failed").get_data(as_text=True)
    assert "<code>login.failed</code>" in by_action and "<code>user.created</code>" not in by_action
    by_actor = admin_client.get("/admin/audit/?actor=admin@").get_data(as_text=True)
    assert "<code>user.created</code>" in by_actor and "<code>login.failed</code>" not in by_actor
    future = admin_client.get("/admin/audit/?start=2999-01-01").get_data(as_text=True)
    assert "No events match." in future
    assert admin_client.get("/admin/audit/?start=nonsense").status_code == 200
