"""Retries, fallbacks and timeouts on /v1 against real upstreams over HTTP (cases 17 and 18)."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from tests.conftest import bearer


def chat(model: str, stream: bool = False) -> dict:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def group_routes(app, *upstreams: str, name: str = "steady") -> None:
    """Routes ``name`` -> each upstream of the fake (through the env's openai vendor), in order,
    in one fallback group."""
    with app.app_context():
        credential = VendorCredential(name="openai", kind="openai-compatible")
        for priority, upstream in enumerate(upstreams):
            db.session.add(ModelRoute(public_name=name if priority == 0 else f"{name}-{priority}",
                                      credential=credential, upstream_model=upstream,
                                      fallback_group="group", priority=priority))
        db.session.commit()


@pytest.fixture
def retrying_app(make_app, vendor_env):
    app = make_app(PARLOR_VENDOR_RETRIES=2, **vendor_env)
    sleeps = Sleeps()
    app.extensions["parlor.vendors"].manager.sleep = sleeps  # record the waits, wait none
    return app, sleeps


# -- case 17 --------------------------------------------------------------------------------


def test_case17_upstream_429_waits_its_retry_after_each_time_then_falls_back(
        retrying_app, make_key, fake_vendor, usage_rows):
    app, sleeps = retrying_app
    group_routes(app, "error-429-after-3", "fake-chat")

    response = app.test_client().post("/v1/chat/completions", json=chat("steady"),
                                      headers=bearer(make_key()))

    assert response.status_code == 200
    assert response.get_json()["choices"][0]["message"]["content"] == "Echo: hi"
    assert sleeps == [3.0, 3.0]  # Retry-After honoured before each of the two retries
    assert [r.model for r in fake_vendor.requests] == ["error-429-after-3"] * 3 + ["fake-chat"]
    assert response.headers["x-parlor-route"] == "openai/fake-chat"
    assert usage_rows()[-1].route == "openai/fake-chat"  # the route that answered


def test_case17_retry_budget_moves_on_to_the_next_route(make_app, vendor_env, make_key,
                                                        fake_vendor):
    app = make_app(PARLOR_VENDOR_RETRIES=5, PARLOR_RETRY_BUDGET=7, **vendor_env)
    sleeps = Sleeps()
    app.extensions["parlor.vendors"].manager.sleep = sleeps
    group_routes(app, "error-429-after-3", "fake-chat")

    response = app.test_client().post("/v1/chat/completions", json=chat("steady"),
                                      headers=bearer(make_key()))

    assert response.status_code == 200
    assert sleeps == [3.0, 3.0]  # a third wait would pass the 7 s budget


@pytest.mark.parametrize("upstream", ["error-400", "error-422"])
def test_case17_bad_request_is_neither_retried_nor_rerouted(retrying_app, make_key,
                                                            fake_vendor, upstream):
    app, sleeps = retrying_app
    group_routes(app, upstream, "fake-chat")

    response = app.test_client().post("/v1/chat/completions", json=chat("steady"),
                                      headers=bearer(make_key()))

    assert response.status_code == 400
    assert response.get_json()["error"]["type"] == "invalid_request_error"
    assert [r.model for r in fake_vendor.requests] == [upstream]
    assert sleeps == []


def test_case17_transient_5xx_is_retried_with_capped_exponential_backoff(retrying_app,
                                                                         make_key, fake_vendor):
    app, sleeps = retrying_app

    response = app.test_client().post("/v1/chat/completions", json=chat("openai/flaky-2"),
                                      headers=bearer(make_key()))

    assert response.status_code == 200
    assert sleeps == [0.5, 1.0]
    assert len(fake_vendor.requests_for("flaky-2")) == 3


# -- case 18: timeouts ----------------------------------------------------------------------


@pytest.fixture
def impatient_app(make_app, vendor_env):
    return make_app(PARLOR_VENDOR_FIRST_TOKEN_TIMEOUT=0.3, PARLOR_VENDOR_IDLE_TIMEOUT=0.3,
                    PARLOR_VENDOR_TOTAL_TIMEOUT=0.5, **vendor_env)


@pytest.mark.parametrize("stream", [True, False])
def test_case18_upstream_sending_no_headers_gets_504_in_openai_shape(impatient_app, make_key,
                                                                     usage_rows, stream):
    response = impatient_app.test_client().post(
        "/v1/chat/completions", json=chat("openai/slow-first-byte-3", stream=stream),
        headers=bearer(make_key()))

    assert response.status_code == 504
    assert response.get_json()["error"]["code"] == "timeout"
    assert usage_rows()[-1].status == "error"


def test_case18_upstream_sending_no_headers_gets_504_in_anthropic_shape(impatient_app,
                                                                        make_key):
    response = impatient_app.test_client().post(
        "/v1/messages", headers={"x-api-key": make_key()},
        json={"model": "anthropic/slow-first-byte-3", "max_tokens": 20, "stream": True,
              "messages": [{"role": "user", "content": "hi"}]})

    assert response.status_code == 504
    assert response.get_json()["error"]["type"] == "timeout_error"


def test_case18_stall_after_three_chunks_ends_with_an_error_event_and_no_done(
        stall_app, stalling, make_key, usage_rows):
    response = stall_app.test_client().post(
        "/v1/chat/completions", json=chat("openai/stall", stream=True),
        headers=bearer(make_key()))
    body = response.get_data(as_text=True)

    assert response.status_code == 200
    events = [line[6:] for line in body.splitlines() if line.startswith("data: ")]
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or ""
                   for e in events[:-1] if json.loads(e).get("choices"))
    assert text == "one two three "
    assert "error" in json.loads(events[-1])
    assert "[DONE]" not in body
    assert stalling.hung_up()  # the upstream socket was closed
    row = usage_rows()[-1]
    assert row.status == "error" and row.output_tokens > 0 and row.route == "openai/stall"


def test_case18_stall_after_three_chunks_in_anthropic_shape_ends_with_event_error(
        stall_app, stalling, make_key):
    response = stall_app.test_client().post(
        "/v1/messages", headers={"x-api-key": make_key()},
        json={"model": "openai/stall", "max_tokens": 20, "stream": True,
              "messages": [{"role": "user", "content": "hi"}]})
    body = response.get_data(as_text=True)

    assert "three" in body
    assert body.rstrip().split("\n\n")[-1].startswith("event: error")
    assert "message_stop" not in body
