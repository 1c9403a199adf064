"""Case 12: cross-site posts without a valid CSRF token are refused, state-changing routes
refuse GET, and no origin gets a CORS allowance."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.conftest import log_in


@pytest.fixture
def admin_client(client, make_user):
    make_user("admin@example.com", role="admin")
    make_user("member@example.com")
    log_in(client, "admin@example.com")
    return client


def test_case12_cross_site_posts_without_a_csrf_token_are_refused(admin_client, app):
    with app.app_context():
        member = db.session.scalars(select(User).filter_by(email="member@example.com")).one()
        member_id, role_before = member.id, member.role_id
    cross_site = {"Origin": "https://evil.example", "Referer": "https://evil.example/x"}
    attempts = [
        ("/c", {"model": "mock/echo", "message": "hi"}),
        ("/admin/users/", {"email": "new@example.com", "password": "x" * 12, "role": "admin"}),
        (f"/admin/users/{member_id}/role", {"role": "admin"}),
        (f"/admin/users/{member_id}/enabled", {"enabled": "0"}),
        ("/admin/vendors/1/key", {"api_key": "sk-attacker"}),
    ]
    for path, data in attempts:
        for token in (None, "forged-token"):
            form = data if token is None else {**data, "csrf_token": token}
            response = admin_client.post(path, data=form, headers=cross_site)
            assert response.status_code in (400, 403), (path, token, response.status_code)
    with app.app_context():
        member = db.session.get(User, member_id)
        assert (member.role_id, member.is_active) == (role_before, True)


@pytest.mark.parametrize("path", ["/logout", "/c", "/admin/users/1/enabled",
                                  "/admin/users/1/role", "/admin/vendors/1/key",
                                  "/admin/vendors/1/delete", "/c/x/messages/y/stop"])
def test_case12_state_changing_routes_answer_get_with_405(admin_client, path):
    assert admin_client.get(path).status_code == 405


@pytest.mark.parametrize("path", ["/v1/models", "/api/v1/me", "/login", "/"])
def test_case12_evil_origin_gets_no_cors_allowance(client, path):
    response = client.get(path, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
