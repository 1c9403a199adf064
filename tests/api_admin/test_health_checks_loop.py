"""PARLOR_HEALTH_CHECK_INTERVAL: the app's own loop checks the deployments that opt in, cools
down one that answers 503 without any client call, brings it back once it heals, and shows each
check on the admin API, the Models screen and /metrics; a route opts in on the admin form."""

from __future__ import annotations

import time

import pytest

from app.services import health_checks, model_routes
from tests.api_admin.conftest import ADMIN_EMAIL
from tests.conftest import PASSWORD, csrf_token, log_in
from tests.fakes.vendor_server import DEFAULT_API_KEY


@pytest.fixture
def app(make_app):
    app = make_app(PARLOR_HEALTH_CHECK_INTERVAL=0.2, PARLOR_COOLDOWN_FAILURES=1,
                   PARLOR_COOLDOWN_SECONDS=1)
    yield app
    health_checks.stop(app)


def wait_for(read, accept, seconds: float = 8.0):
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if accept(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_the_loop_cools_a_failing_deployment_down_and_back_without_client_calls(
        app, api, fake_vendor):
    assert api("post", "/vendors", json={"name": "checked", "kind": "openai-compatible",
                                         "base_url": fake_vendor.openai_base_url,
                                         "api_key": DEFAULT_API_KEY}).status_code == 201
    created = api("post", "/models", json={"public_name": "chat", "vendor": "checked",
                                           "upstream_model": "flaky-2-loop",
                                           "health_check": True})
    assert created.get_json()["data"]["health_check"] is True
    route_id = created.get_json()["data"]["id"]
    api("post", "/models", json={"public_name": "chat", "vendor": "checked",
                                 "upstream_model": "fake-chat"})

    def health():  # read as the admin API reads it (polling the API would meet its rate limit)
        with app.app_context():
            return vars(model_routes.health([model_routes.find(route_id)])[route_id])

    cooled = wait_for(health, lambda h: h["state"] == "cooling")
    assert api("get", f"/models/{route_id}").get_json()["data"]["health"]["state"] in (
        "cooling", "half-open")
    assert (cooled["state"], cooled["last_error"], cooled["last_check"]) == (
        "cooling", "unavailable", "unavailable")
    assert cooled["last_check_seconds_ago"] < 2

    healed = wait_for(health, lambda h: h["state"] == "healthy" and h["last_check"] == "ok")
    assert (healed["state"], healed["last_check"]) == ("healthy", "ok")
    shown = api("get", f"/models/{route_id}").get_json()["data"]["health"]
    assert (shown["state"], shown["last_check"]) == ("healthy", "ok")
    # every request the deployment saw was a one-token check, none a client's
    seen = fake_vendor.requests_for("flaky-2-loop")
    assert len(seen) >= 3 and all(r.body["max_tokens"] == 1 for r in seen)
    assert fake_vendor.requests_for("fake-chat") == []  # not opted in: never checked

    browser = app.test_client()
    log_in(browser, ADMIN_EMAIL, PASSWORD)
    page = browser.get("/admin/models/").get_data(as_text=True)
    assert 'data-check="ok"' in page and "s ago: ok" in page
    metrics = browser.get("/metrics").get_data(as_text=True)
    assert 'parlor_deployment_health_check_total{result="unavailable",vendor="checked"}' in metrics
    assert 'parlor_deployment_health_check_total{result="ok",vendor="checked"}' in metrics


def test_a_route_opts_in_on_the_admin_models_form(app, api, fake_vendor):
    assert api("post", "/vendors", json={"name": "checked", "kind": "openai-compatible",
                                         "base_url": fake_vendor.openai_base_url,
                                         "api_key": DEFAULT_API_KEY}).status_code == 201
    vendor_id = api("get", "/vendors").get_json()["data"]
    browser = app.test_client()
    log_in(browser, ADMIN_EMAIL, PASSWORD)
    form = browser.get("/admin/models/").get_data(as_text=True)
    assert 'name="health_check"' in form
    stored = next(v for v in vendor_id if v["name"] == "checked")
    answer = browser.post("/admin/models/", data={
        "csrf_token": csrf_token(form), "public_name": "watched", "credential_id": stored["id"],
        "upstream_model": "fake-chat", "enabled": "y", "input_price": "0",
        "output_price": "0", "priority": "0", "weight": "1", "strategy": "weighted",
        "health_check": "y"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:400]
    routes = api("get", "/models").get_json()["data"]
    assert [r["health_check"] for r in routes if r["public_name"] == "watched"] == [True]
    api("patch", f"/models/{routes[0]['id']}", json={"health_check": False})
    assert api("get", f"/models/{routes[0]['id']}").get_json()["data"]["health_check"] is False
