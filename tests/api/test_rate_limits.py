"""Parlor's own rate limits: per key and user on the APIs and chat sends, and on sign-in."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.repositories import accounts as accounts_repo
from tests.conftest import PASSWORD, csrf_token, log_in

CHAT = {"model": "openai/fake-chat", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "anthropic/fake-chat", "max_tokens": 50,
            "messages": [{"role": "user", "content": "hi"}]}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def app(make_app, vendor_env):
    return make_app(PARLOR_RATE_LIMIT="2/minute", **vendor_env)


def test_case17_gateway_limit_trip_gets_429_with_retry_after_in_openai_shape(app, make_key):
    client, key = app.test_client(), make_key()
    assert client.post("/v1/chat/completions", json=CHAT, headers=bearer(key)).status_code == 200
    assert client.get("/v1/models", headers=bearer(key)).status_code == 200

    refused = client.post("/v1/chat/completions", json=CHAT, headers=bearer(key))

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    error = refused.get_json()["error"]
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")


def test_rate_limit_on_v1_messages_answers_in_anthropic_shape(app, make_key, fake_vendor):
    client, key = app.test_client(), make_key()
    for _ in range(2):
        client.post("/v1/messages", json=MESSAGES, headers={"x-api-key": key})
    sent = len(fake_vendor.requests)

    refused = client.post("/v1/messages", json=MESSAGES, headers={"x-api-key": key})

    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.get_json()["type"] == "error"
    assert refused.get_json()["error"]["type"] == "rate_limit_error"
    assert len(fake_vendor.requests) == sent  # refused before the vendor was called


def test_rate_limit_on_api_v1_answers_in_the_rest_shape(app, make_key):
    client, key = app.test_client(), make_key()
    for _ in range(2):
        assert client.get("/api/v1/me", headers=bearer(key)).status_code == 200

    refused = client.get("/api/v1/me", headers=bearer(key))

    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.get_json()["error"]["code"] == "rate_limit"


def test_limit_is_per_user_across_keys_and_leaves_other_users_alone(app, make_key):
    client = app.test_client()
    first, second = make_key(), make_key()  # two keys of the same user
    other = make_key("other@example.com")
    for key in (first, second):
        assert client.get("/v1/models", headers=bearer(key)).status_code == 200

    assert client.get("/v1/models", headers=bearer(first)).status_code == 429
    assert client.get("/v1/models", headers=bearer(second)).status_code == 429
    assert client.get("/v1/models", headers=bearer(other)).status_code == 200


def test_role_rate_limit_wins_over_the_default(app, make_key):
    with app.app_context():
        accounts_repo.role_by_name("member").rate_limit = "1/minute"
        db.session.commit()
    client, key = app.test_client(), make_key()

    assert client.get("/v1/models", headers=bearer(key)).status_code == 200
    assert client.get("/v1/models", headers=bearer(key)).status_code == 429


def test_unauthenticated_calls_do_not_use_up_a_keys_limit(app, make_key):
    client, key = app.test_client(), make_key()
    for _ in range(3):
        assert client.get("/v1/models", headers=bearer("sk-wrong")).status_code == 401

    assert client.get("/v1/models", headers=bearer(key)).status_code == 200


def test_chat_sends_over_the_limit_get_an_inline_message(app, make_user):
    make_user("member@example.com")
    client = app.test_client()
    log_in(client, "member@example.com")
    token = csrf_token(client.get("/").get_data(as_text=True))
    for text in ("one", "two"):  # two new chats: the limit of 2 a minute is used up
        page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                       "message": text}, follow_redirects=True)
    conversation = re.search(r'/c/([A-Za-z0-9_-]+)', page.request.path).group(1)
    form = {"csrf_token": token, "model": "openai/fake-chat", "message": "three"}

    refused = client.post(f"/c/{conversation}/messages", data=form,
                          headers={"HX-Request": "true"})

    assert refused.status_code == 422  # htmx swaps it in above the composer
    assert refused.headers["HX-Retarget"] == "#composer-error"
    assert int(refused.headers["Retry-After"]) >= 1
    assert "too fast" in refused.get_data(as_text=True)


# -- sign-in --------------------------------------------------------------------------------


def attempt(client, email, password, forwarded_for=None, remote="198.51.100.9"):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": password},
                       headers=headers, environ_base={"REMOTE_ADDR": remote})


@pytest.mark.parametrize("proxies", [0, 1])
def test_case11_login_brute_force_with_rotating_forwarded_for_gets_429(make_app, proxies):
    app = make_app(PARLOR_LOGIN_RATE_LIMIT="5/minute", PARLOR_LOGIN_IP_RATE_LIMIT="8/minute",
                   PARLOR_TRUSTED_PROXIES=proxies)
    with app.app_context():
        from app.services import accounts

        accounts.create_user("victim@example.com", PASSWORD)
        accounts.create_user("bystander@example.com", PASSWORD)
        db.session.commit()
    client = app.test_client()
    # The proxy appends the real client (203.0.113.7); the client forges what comes before.
    statuses = [attempt(client, "victim@example.com", f"guess-{i}",
                        forwarded_for=f"10.0.{i}.1, 203.0.113.7").status_code
                for i in range(20)]

    assert statuses[:5] == [200] * 5  # the login page again, with "Wrong e-mail or password"
    assert set(statuses[5:]) == {429}
    refused = attempt(client, "victim@example.com", PASSWORD, forwarded_for="10.9.9.9, 203.0.113.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    # Someone else, from another address, still gets in.
    other = app.test_client()
    welcome = attempt(other, "bystander@example.com", PASSWORD,
                      forwarded_for="192.0.2.50", remote="192.0.2.50")
    assert welcome.status_code == 302


def test_login_limit_per_address_covers_many_accounts(make_app):
    app = make_app(PARLOR_LOGIN_RATE_LIMIT="50/minute", PARLOR_LOGIN_IP_RATE_LIMIT="3/minute")
    client = app.test_client()
    statuses = [attempt(client, f"user{i}@example.com", "nope").status_code for i in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
