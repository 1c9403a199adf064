"""The production security baseline (case 23): cookies, HSTS and hardening headers; sessions
renewed at login, passwords hashed with scrypt."""

from __future__ import annotations

import re

import pytest

import config
from app import create_app
from app.extensions import db
from app.models import User
from app.services import accounts
from tests.conftest import PASSWORD, csrf_token, log_in

HTTPS = "https://parlor.example"


@pytest.fixture
def production_app(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/prod.db")
    app = create_app(config.ProductionConfig())
    with app.app_context():
        db.create_all()
        accounts.ensure_builtin_roles()
        accounts.create_user("member@example.com", PASSWORD)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def cookies_set(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_case23_production_cookies_are_host_prefixed_secure_httponly_lax(production_app):
    client = production_app.test_client()
    token = csrf_token(client.get("/login", base_url=HTTPS).get_data(as_text=True))
    response = client.post("/login", base_url=HTTPS, headers={"Referer": HTTPS + "/login"},
                           data={"csrf_token": token, "email": "member@example.com",
                                 "password": PASSWORD, "remember": "y"})

    assert response.status_code == 302
    cookies = cookies_set(response)
    for name in ("__Host-parlor", "__Host-parlor_remember"):
        cookie = cookies[name]
        for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
            assert flag in cookie, (name, flag)
        assert "Domain=" not in cookie  # required by the __Host- prefix


@pytest.mark.parametrize("path", ["/login", "/healthz", "/v1/models", "/no-such-page"])
def test_case23_hsts_of_a_year_and_hardening_headers_on_every_response(production_app, path):
    response = production_app.test_client().get(path, base_url=HTTPS)

    hsts = response.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "img-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_session_is_renewed_at_login_so_nothing_from_before_survives(app, make_user):
    make_user("member@example.com")
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before the login"

    log_in(client, "member@example.com")

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_passwords_are_hashed_with_scrypt(app, make_user):
    user_id = make_user("member@example.com")
    with app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith("scrypt:")
