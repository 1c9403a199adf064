"""security-tests.md cases 1, 10 and 12 as named tests (see the module docstrings' cases)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app.formatting.markdown import to_html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.conftest import log_in

PAYLOADS = [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "<svg onload=alert(1)>",
    '<iframe srcdoc="<script>alert(1)</script>">', "[a](javascript:alert(1))",
    "[a](JaVaScRiPt&colon;alert(1))", "[a](data:text/html;base64,PHNjcmlwdD4=)",
    '<a href="vbscript:msgbox(1)">x</a>', "![x](javascript:alert(1))", "<style>",
    '<a href="jav&#x09;ascript:alert(1)">x</a>', "`<script>`", "```\n<script>\n```",
]
TAG = re.compile(r"<[^>]*>")
EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
BAD_URL = re.compile(r"""(href|src)\s*=\s*["']?\s*(javascript|data|vbscript):""", re.IGNORECASE)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(PAYLOADS)), max_size=6))
def test_case1_markdown_never_renders_scripts_event_handlers_or_bad_schemes(pieces):
    rendered = to_html("".join(pieces))

    tags = TAG.findall(rendered)
    assert not re.search(r"<\s*(script|iframe|svg|object|embed|style)", rendered, re.I)
    assert not any(EVENT_ATTRIBUTE.search(tag) for tag in tags)
    assert not any(BAD_URL.search(tag) for tag in tags)


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_case1_html_in_a_message_shows_as_text(payload):
    assert "&lt;" in to_html(payload)


# -- case 10: forged or malformed credentials -----------------------------------------------

DRIVER_WORDS = ("sqlalchemy", "psycopg", "sqlite", "select ", "traceback", "operationalerror")
FORGED = [
    "", "null", "Bearer", "Bearer ", "Bearer null", "Bearer ' OR '1'='1",
    "Bearer " + "A" * 8192, "Basic dXNlcjpwYXNz", "Bearer pk-" + "x" * 40,
]


@pytest.mark.parametrize("value", FORGED, ids=range(len(FORGED)))
@pytest.mark.parametrize("path", ["/v1/models", "/api/v1/me"])
def test_case10_forged_authorization_header_gets_uniform_401(client, path, value):
    response = client.get(path, headers={"Authorization": value})

    assert response.status_code in (400, 401), response.status_code
    body = response.get_data(as_text=True).lower()
    assert not any(word in body for word in DRIVER_WORDS)


def test_case10_non_ascii_bytes_in_the_key_get_401_not_500(client, make_key):
    secret = make_key()
    for value in (b"Bearer \xff\xfe\x00", ("Bearer " + secret[:-4] + "ñ€😀").encode()):
        response = client.get("/v1/models", headers={"Authorization": value.decode("latin-1")})
        assert response.status_code in (400, 401)
        assert "traceback" not in response.get_data(as_text=True).lower()


def test_case10_valid_prefix_with_a_wrong_secret_gets_401(client, make_key):
    secret = make_key()
    forged = secret[:-6] + ("A" if secret[-6] != "A" else "B") + secret[-5:]
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {forged}"}
                      ).status_code == 401
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200


def test_case10_key_secrets_are_compared_in_constant_time():
    source = Path(__file__).resolve().parents[2].joinpath("app/services/keys.py").read_text()
    assert "hmac.compare_digest" in source


# -- case 12: CSRF and cross-origin -------------------------------------------------------------


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
