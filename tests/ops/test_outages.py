"""Outages of Redis and PostgreSQL, each an instance the test owns (cases 21 and 22)."""

from __future__ import annotations

import time

import pytest

import config
from app import create_app, limits
from app.extensions import db
from app.services import accounts
from tests.conftest import PASSWORD, bearer, csrf_token, new_key
from tests.servers import free_port


def sign_in(client, email: str, password: str):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": password})


# -- case 21: Redis -------------------------------------------------------------------------


@pytest.fixture
def quick_recheck(monkeypatch):
    monkeypatch.setattr(limits, "RECHECK_SECONDS", 0.2)


def test_case21_redis_outage_limits_fall_back_login_fails_closed_and_recover(
        make_app, redis_server, quick_recheck):
    app = make_app(REDIS_URL=redis_server.url, PARLOR_RATE_LIMIT="3/minute")
    second_process = create_app(config.TestingConfig())  # same database, same Redis
    with app.app_context():
        accounts.create_user("member@example.com", PASSWORD)
        db.session.commit()
    key = new_key(app)
    a, b = app.test_client(), second_process.test_client()

    # Shared through Redis: two "processes" count one limit.
    assert [c.get("/v1/models", headers=bearer(key)).status_code for c in (a, b, a, b)] == \
        [200, 200, 200, 429]

    redis_server.stop()
    # API limits: counted in this process's memory meanwhile (documented fallback).
    assert a.get("/v1/models", headers=bearer(key)).status_code == 200
    assert a.get("/healthz").get_json()["status"] == "degraded"
    assert a.get("/readyz").status_code == 503
    # Sign-in fails closed.
    refused = sign_in(app.test_client(), "member@example.com", PASSWORD)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert "unavailable" in refused.get_data(as_text=True)

    redis_server.start()
    time.sleep(0.3)  # past the re-check interval
    assert sign_in(app.test_client(), "member@example.com", PASSWORD).status_code == 302
    assert a.get("/readyz").status_code == 200
    assert a.get("/healthz").get_json()["status"] == "ok"


def test_case21_unreachable_redis_at_start_never_fails_a_request(make_app, quick_recheck):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    key = new_key(app)

    assert app.test_client().get("/v1/models", headers=bearer(key)).status_code == 200


# -- case 22: PostgreSQL --------------------------------------------------------------------


def test_case22_database_outage_gets_503_json_and_recovers_without_restart(
        make_app, postgres_server):
    app = make_app(database_url=postgres_server.url)
    key, unseen = new_key(app), new_key(app)
    client = app.test_client()
    assert client.get("/v1/models", headers=bearer(key)).status_code == 200

    postgres_server.stop()
    for path in ("/v1/models", "/api/v1/me"):  # a key this process has not checked yet
        response = client.get(path, headers=bearer(unseen))
        assert response.status_code == 503, path
        assert response.headers["Retry-After"]
        body = response.get_data(as_text=True)
        assert "database" in response.get_json()["error"]["message"]
        assert "psycopg" not in body and "Traceback" not in body
    anthropic = client.post("/v1/messages", headers={"x-api-key": unseen}, json={})
    assert anthropic.status_code == 503
    assert anthropic.get_json()["error"]["type"] == "api_error"
    assert client.get("/readyz").status_code == 503
    # A key checked before the outage is kept by the access cache (the case allows it: keys
    # not in a cache are rejected); the model list needs no query.
    assert client.get("/v1/models", headers=bearer(key)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(key)).status_code == 503

    postgres_server.start()
    assert client.get("/readyz").status_code == 200
    assert client.get("/v1/models", headers=bearer(key)).status_code == 200
    assert client.get("/v1/models", headers=bearer("pk-wrong-key")).status_code == 401
