"""The production security baseline (case 23) and secrets kept out of logs (cases 9, 14)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

import config
from app import create_app
from app.extensions import db
from app.models import User
from app.security import RedactQuerySecrets
from app.services import accounts
from tests.conftest import PASSWORD, csrf_token, log_in

ROOT = Path(__file__).resolve().parents[2]
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


def test_access_log_format_leaves_the_query_string_out():
    namespace: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102 - our own file

    assert "%(U)s" in namespace["access_log_format"]
    assert "%(r)s" not in namespace["access_log_format"]
    assert "%(q)s" not in namespace["access_log_format"]


def test_request_log_lines_have_query_keys_masked():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - "%s" %s',
                               ("127.0.0.1", "GET /v1/models?api_key=pk-secret-123&x=1 HTTP/1.1",
                                "401"), None)

    RedactQuerySecrets().filter(record)

    assert "pk-secret-123" not in record.getMessage()
    assert "api_key=***&x=1" in record.getMessage()


def test_case9_parlor_and_vendor_keys_never_logged_through_v1_calls_at_debug(
        make_app, fake_vendor, caplog, capsys):
    vendor_key = "sk-live-" + "7" * 24
    fake_vendor.api_key = vendor_key
    app = make_app(OPENAI_BASE_URL=fake_vendor.openai_base_url, OPENAI_API_KEY=vendor_key,
                   ANTHROPIC_BASE_URL=fake_vendor.anthropic_base_url,
                   ANTHROPIC_API_KEY=vendor_key, LOG_LEVEL="DEBUG")
    from tests.hardening.conftest import new_key

    key = new_key(app)
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    bodies = []
    for model in ("openai/fake-chat", "openai/error-401", "anthropic/error-500"):
        for stream in (False, True):
            body = {"model": model, "stream": stream,
                    "messages": [{"role": "user", "content": "hello"}]}
            response = client.post("/v1/chat/completions", json=body,
                                   headers={"Authorization": f"Bearer {key}"})
            bodies.append(response.get_data(as_text=True))
    bodies.append(client.get(f"/v1/models?api_key={key}").get_data(as_text=True))
    bodies.append(client.get("/v1/models", headers={"Authorization": f"Bearer {key}x"})
                  .get_data(as_text=True))

    captured = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Echo: hello" in "".join(bodies)
    for text in (logged, captured.out, captured.err, *bodies):
        assert key not in text
        assert vendor_key not in text
