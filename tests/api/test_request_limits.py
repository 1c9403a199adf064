"""Limits sized for agents: large bodies on /v1 (PARLOR_MAX_API_REQUEST_BYTES, 32 MiB by
default) while the browser and /api/v1 keep PARLOR_MAX_REQUEST_BYTES (1 MiB); 413s in the
caller's wire shape; stream timeouts long enough for a model that thinks for minutes."""

from __future__ import annotations

import anthropic
import openai
import pytest
import requests

import config
from tests.conftest import bearer

MiB = 1024 * 1024
SMALL_API_LIMIT = 64 * 1024


@pytest.fixture
def app(request, make_app, vendor_env):
    """The default limits, or those a test names with ``indirect`` parametrisation."""
    return make_app(**getattr(request, "param", {}), **vendor_env)


def test_defaults_are_32_mib_on_v1_and_1_mib_elsewhere(app):
    assert app.config["PARLOR_MAX_API_REQUEST_BYTES"] == 32 * MiB
    assert app.config["MAX_CONTENT_LENGTH"] == MiB


def test_a_5_mib_chat_completion_is_accepted_on_v1(openai_client, fake_vendor):
    text = "x" * (5 * MiB)
    completion = openai_client.chat.completions.create(
        model="openai/fake-chat", messages=[{"role": "user", "content": text}])
    assert completion.choices[0].message.content == "Echo: " + text
    assert len(fake_vendor.last_request.body["messages"][0]["content"]) == 5 * MiB


def test_2_mib_on_the_rest_api_is_a_413_in_its_error_shape(client, member_key):
    body = {"model": "openai/fake-chat", "system_prompt": "x" * (2 * MiB)}
    response = client.post("/api/v1/conversations", json=body, headers=bearer(member_key))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_too_large"
    assert str(MiB) in response.json["error"]["message"]  # the limit of this audience


@pytest.mark.parametrize("app", [{"PARLOR_MAX_API_REQUEST_BYTES": SMALL_API_LIMIT}],
                         indirect=True)
def test_case15_over_the_api_limit_is_a_413_in_openai_and_anthropic_shapes(
        openai_client, anthropic_client, fake_vendor):
    big = [{"role": "user", "content": "x" * (SMALL_API_LIMIT + 1)}]
    with pytest.raises(openai.APIStatusError) as caught:
        openai_client.chat.completions.create(model="openai/fake-chat", messages=big)
    assert caught.value.status_code == 413
    assert caught.value.body["code"] == "request_too_large"
    assert str(SMALL_API_LIMIT) in caught.value.body["message"]
    with pytest.raises(anthropic.RequestTooLargeError) as caught:
        anthropic_client.messages.create(model="openai/fake-chat", max_tokens=5, messages=big)
    assert caught.value.body["error"]["type"] == "request_too_large"
    assert not fake_vendor.requests


def test_case15_a_50_mb_body_on_v1_is_refused_unread_and_the_next_call_works(
        client, member_key):
    body = b'{"model": "openai/fake-chat", "messages": ["' + b"x" * (50 * 1000 * 1000) + b'"]}'
    response = client.post("/v1/chat/completions", data=body, headers=bearer(member_key),
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_too_large"
    assert str(32 * MiB) in response.json["error"]["message"]
    assert client.get("/v1/models", headers=bearer(member_key)).status_code == 200


def test_stream_timeouts_let_a_model_think_ten_minutes_by_default(monkeypatch):
    for name in ("PARLOR_VENDOR_TIMEOUT", "PARLOR_VENDOR_FIRST_TOKEN_TIMEOUT",
                 "PARLOR_VENDOR_IDLE_TIMEOUT", "PARLOR_VENDOR_TOTAL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    settings = config.TestingConfig()
    assert settings.PARLOR_VENDOR_FIRST_TOKEN_TIMEOUT >= 600
    assert settings.PARLOR_VENDOR_TOTAL_TIMEOUT > settings.PARLOR_VENDOR_FIRST_TOKEN_TIMEOUT
    assert settings.PARLOR_VENDOR_IDLE_TIMEOUT >= 60  # Anthropic pings every 15-30 s


def test_a_gevent_worker_timeout_does_not_cut_a_stream_waiting_for_its_first_token(
        parlor_process, member_key, fake_vendor):
    # gevent workers beat their heartbeat from their own loop: gunicorn's ``timeout`` only
    # kills a worker whose loop is blocked, never a request that waits for its vendor (here
    # more than twice as long; the loop beats every second).
    server = parlor_process(GUNICORN_CMD_ARGS="--timeout 3")
    response = requests.post(
        server.url + "/v1/chat/completions", headers=bearer(member_key), timeout=30,
        json={"model": "openai/slow-first-byte-7", "stream": True,
              "messages": [{"role": "user", "content": "think"}]})
    assert response.status_code == 200
    assert "Echo:" in response.text
    assert response.text.rstrip().endswith("data: [DONE]"), server.log()
