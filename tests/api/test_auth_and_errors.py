"""API keys and errors on /v1: the SDKs raise their own exception classes, shaped per API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anthropic
import flask
import openai
import pytest
from flask.sessions import NullSession
from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, Role
from app.repositories import accounts as accounts_repo
from app.services import accounts, keys
from tests.api.conftest import keys_prefix
from tests.conftest import PASSWORD, log_in

HI = [{"role": "user", "content": "hi"}]


def _openai(live_server, key):
    return openai.OpenAI(base_url=live_server + "/v1", api_key=key, max_retries=0)


def _anthropic(live_server, key):
    return anthropic.Anthropic(base_url=live_server, api_key=key, max_retries=0)


def _calls(live_server, key):
    """One call per API, each raising what its SDK raises."""
    return [
        lambda: _openai(live_server, key).chat.completions.create(model="openai/fake-chat",
                                                                 messages=HI),
        lambda: _anthropic(live_server, key).messages.create(model="openai/fake-chat",
                                                            max_tokens=5, messages=HI),
        lambda: _openai(live_server, key).models.list(),
        lambda: _anthropic(live_server, key).models.list(),
    ]


@pytest.mark.parametrize("call", range(4), ids=["openai-chat", "anthropic-messages",
                                                 "openai-models", "anthropic-models"])
def test_unknown_key_gets_authentication_error(live_server, call):
    forged = "pk-00000000-" + "x" * 43
    with pytest.raises((openai.AuthenticationError, anthropic.AuthenticationError)) as caught:
        _calls(live_server, forged)[call]()
    assert caught.value.status_code == 401
    assert forged not in str(caught.value.body)


def test_revoked_key_gets_401(live_server, app, member_key):
    with app.app_context():
        keys.revoke_key(keys_prefix(member_key))
    for call in _calls(live_server, member_key):
        with pytest.raises((openai.AuthenticationError, anthropic.AuthenticationError)):
            call()


def test_expired_key_gets_401(live_server, app, member_key):
    with app.app_context():
        row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == keys_prefix(member_key)))
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    with pytest.raises(openai.AuthenticationError) as caught:
        _openai(live_server, member_key).chat.completions.create(model="openai/fake-chat",
                                                                messages=HI)
    assert caught.value.body["code"] == "invalid_api_key"


def test_disabled_owner_key_gets_401(live_server, make_key, app):
    key = make_key("gone@example.com")
    with app.app_context():
        accounts_repo.user_by_email("gone@example.com").is_enabled = False
        db.session.commit()
    with pytest.raises(anthropic.AuthenticationError) as caught:
        _anthropic(live_server, key).messages.create(model="openai/fake-chat", max_tokens=5,
                                                     messages=HI)
    assert caught.value.body["error"]["type"] == "authentication_error"


def test_key_without_api_permission_gets_403(live_server, app, make_key):
    with app.app_context():
        db.session.add(Role(name="chat-only", permissions=["chat"]))
        db.session.commit()
    key = make_key("chatter@example.com", role="chat-only")
    with pytest.raises(openai.PermissionDeniedError):
        _openai(live_server, key).chat.completions.create(model="openai/fake-chat", messages=HI)
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        _anthropic(live_server, key).messages.create(model="openai/fake-chat", max_tokens=5,
                                                     messages=HI)
    assert caught.value.body["error"]["type"] == "permission_error"


@pytest.mark.parametrize("name", ["api_key", "key"])
def test_key_in_query_string_is_refused(client, member_key, name):
    response = client.post(f"/v1/chat/completions?{name}={member_key}",
                           json={"model": "openai/fake-chat", "messages": HI})
    assert response.status_code == 401
    assert "not accepted in the URL" in response.json["error"]["message"]
    assert member_key not in response.get_data(as_text=True)


def test_browser_session_does_not_authenticate_v1(client, make_user):
    make_user("member@example.com")
    log_in(client, "member@example.com", PASSWORD)
    response = client.post("/v1/chat/completions",
                           json={"model": "openai/fake-chat", "messages": HI})
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_api_key"
    assert client.get("/v1/models").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(openai_client, app, member_key, key_row):
    openai_client.models.list()
    first = key_row(member_key).last_used_at
    openai_client.models.list()
    assert first is not None and key_row(member_key).last_used_at == first


def test_unknown_model_is_not_found_in_both_shapes(openai_client, anthropic_client,
                                                   usage_records):
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.chat.completions.create(model="nope/nothing", messages=HI)
    assert caught.value.body["code"] == "model_not_found"
    with pytest.raises(anthropic.NotFoundError) as caught:
        anthropic_client.messages.create(model="openai", max_tokens=5, messages=HI)
    assert caught.value.body["error"]["type"] == "not_found_error"
    assert [r["status"] for r in usage_records()] == ["error", "error"]


def test_vendor_404_model_is_not_found(openai_client):
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(model="openai/error-404", messages=HI)


@pytest.mark.parametrize("body, message", [
    ({"messages": HI}, "model: Field required"),
    ({"model": "openai/fake-chat", "messages": "hi"}, "messages: Input should be a valid list"),
    ({"model": "openai/fake-chat", "messages": HI, "n": 2}, "n greater than 1 is not supported"),
    ({"model": "openai/fake-chat", "messages": HI, "logprobs": True}, "logprobs is not supported"),
    ({"model": "openai/fake-chat", "messages": HI, "temperature": 3}, "temperature: Input should"),
    ({"model": "openai/fake-chat", "messages": HI, "modalities": ["text", "audio"]},
     "Audio output is not supported"),
    ({"model": "openai/fake-chat", "messages": [{"role": "tool", "content": "x"}]},
     "messages.0: a tool message needs 'tool_call_id'"),
    ({"model": "openai/fake-chat", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,not base64!"}}]}]},
     "messages.0.content.0: image_url.url holds data that is not base64"),
    ({"model": "openai/fake-chat", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]},
     "image_url.url must be an http(s) URL or a data URL"),
], ids=["no-model", "wrong-type", "n", "logprobs", "range", "audio-out", "tool-id", "bad-image",
        "file-url"])
def test_invalid_openai_body_is_a_bad_request(openai_client, body, message):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.post("/chat/completions", body=body, cast_to=object)
    assert message in caught.value.body["message"]
    assert caught.value.body["type"] == "invalid_request_error"


def test_missing_max_tokens_is_an_anthropic_bad_request(anthropic_client):
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client.post("/v1/messages", body={"model": "openai/fake-chat", "messages": HI},
                              cast_to=object)
    assert caught.value.body["error"] == {"type": "invalid_request_error",
                                          "message": "max_tokens: Field required"}
    assert caught.value.body["request_id"] == caught.value.request_id


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_malformed_json_is_a_400_in_the_paths_shape(client, member_key, path):
    response = client.post(path, data=b"{not json", content_type="application/json",
                           headers={"Authorization": f"Bearer {member_key}"})
    assert response.status_code == 400
    error = response.json["error"]
    assert error["message"] == "The request body is not valid JSON."
    assert ("type" in response.json) == (path == "/v1/messages")


def test_vendor_rate_limit_becomes_rate_limit_error_with_retry_after(openai_client,
                                                                    anthropic_client):
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.chat.completions.create(model="anthropic/error-429-after-2", messages=HI)
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.body["code"] == "rate_limit_exceeded"
    with pytest.raises(anthropic.RateLimitError) as caught:
        anthropic_client.messages.create(model="openai/error-429", max_tokens=5, messages=HI)
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.body["error"]["type"] == "rate_limit_error"


def test_vendor_failure_is_a_server_error_without_upstream_details(openai_client, fake_vendor):
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.chat.completions.create(model="anthropic/error-401", messages=HI)
    assert caught.value.status_code == 502
    assert "Invalid authentication credentials" not in str(caught.value.body)
    assert fake_vendor.api_key not in str(caught.value.body)


def test_unrouted_v1_paths_answer_json_with_a_request_id(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404 and response.json["error"]["type"]
    assert response.headers["x-request-id"]
    response = client.get("/v1/chat/completions")
    assert response.status_code == 405 and "error" in response.json


def test_case19_openai_stream_cut_by_the_vendor_ends_with_an_in_band_error(openai_client,
                                                                   usage_records):
    stream = openai_client.chat.completions.create(
        model="openai/cut-stream", stream=True,
        messages=[{"role": "user", "content": "one two three four five"}])
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received)  # some text made it out before the cut
    assert not isinstance(caught.value, openai.APIStatusError)
    record = usage_records()[-1]
    assert record["status"] == "error" and record["output_tokens"] > 0


def test_anthropic_stream_error_arrives_as_an_error_event(anthropic_client, usage_records):
    with pytest.raises(anthropic.APIStatusError) as caught:
        for _ in anthropic_client.messages.create(model="anthropic/stream-error", max_tokens=50,
                                                  stream=True, messages=HI):
            pass
    assert caught.value.status_code == 200
    assert caught.value.body["error"]["type"] == "api_error"
    assert usage_records()[-1]["status"] == "error"


def test_unexpected_failure_is_a_json_500_that_reveals_nothing(client, member_key,
                                                               monkeypatch):
    from app.services import gateway

    def broken():
        raise RuntimeError("SELECT secret FROM somewhere")

    monkeypatch.setattr(gateway, "vendor_manager", broken)
    for path, body in (("/v1/chat/completions", {"model": "openai/fake-chat", "messages": HI}),
                       ("/v1/messages", {"model": "openai/fake-chat", "max_tokens": 5,
                                         "messages": HI})):
        response = client.post(path, json=body, headers={"x-api-key": member_key,
                                                         "Authorization": f"Bearer {member_key}"})
        assert response.status_code == 500 and response.is_json
        assert "SELECT" not in response.get_data(as_text=True)
        assert response.headers["request-id"]


def test_gateway_that_already_retried_tells_the_sdk_not_to(make_app, fake_vendor):
    app = make_app(OPENAI_BASE_URL=fake_vendor.openai_base_url,
                   OPENAI_API_KEY=fake_vendor.api_key, PARLOR_VENDOR_RETRIES=1)
    with app.app_context():
        user = accounts.create_user("member@example.com", PASSWORD)
        _, key = keys.create_key(user)
    response = app.test_client().post(
        "/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
        json={"model": "openai/error-429-after-0.01", "messages": HI})
    assert response.status_code == 429
    assert response.headers["x-should-retry"] == "false"
    assert len(fake_vendor.requests_for("error-429-after-0.01")) == 2


def test_the_vendor_api_neither_reads_nor_rewrites_a_browser_session(app, make_key):
    """/v1 authenticates by key alone: a signed-in browser's cookie is not opened there, and
    the answer sets no cookie; the browser's session still works on the site afterwards."""
    key = make_key()
    client = app.test_client()
    assert log_in(client, "member@example.com").status_code == 302
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = f"{name}={client.get_cookie(name).value}"
    for path, opened in (("/v1/models", False), ("/settings/", True)):
        with app.test_request_context(path, headers={"Cookie": cookie}):
            assert isinstance(flask.session, NullSession) is not opened, path

    no_key = client.get("/v1/models")
    with_key = client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})

    assert no_key.status_code == 401
    assert with_key.status_code == 200
    assert "Set-Cookie" not in no_key.headers and "Set-Cookie" not in with_key.headers
    assert client.get("/settings/").status_code == 200
