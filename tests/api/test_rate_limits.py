"""Parlor's own rate limits on /v1: per key and user, in each wire's shape, before the vendor."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.repositories import accounts as accounts_repo
from tests.conftest import bearer

CHAT = {"model": "openai/fake-chat", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "anthropic/fake-chat", "max_tokens": 50,
            "messages": [{"role": "user", "content": "hi"}]}


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
