"""Deployments through the admin API: weight and balancing strategy, and a deployment that keeps
failing shown cooling down (admin API, Models screen, /metrics)."""

from __future__ import annotations

import pytest

from tests.api_admin.conftest import ADMIN_EMAIL
from tests.conftest import PASSWORD, fake_vendor_env, log_in
from tests.fakes.vendor_server import DEFAULT_API_KEY


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(PARLOR_COOLDOWN_FAILURES=1, PARLOR_COOLDOWN_SECONDS=120,
                    **fake_vendor_env(fake_vendor, "openai"))


@pytest.fixture
def stored_vendor(api, fake_vendor) -> None:
    assert api("post", "/vendors", json={"name": "fake", "kind": "openai-compatible",
                                         "base_url": fake_vendor.openai_base_url,
                                         "api_key": DEFAULT_API_KEY}).status_code == 201


def test_a_route_keeps_its_weight_and_strategy_and_refuses_bad_ones(api, stored_vendor):
    base = {"public_name": "chat", "vendor": "fake", "upstream_model": "fake-chat"}
    created = api("post", "/models", json={**base, "weight": 3, "strategy": "least_busy"})
    assert created.status_code == 201, created.get_json()
    route = created.get_json()["data"]
    assert (route["weight"], route["strategy"]) == (3, "least_busy")
    assert route["health"] == {"state": "healthy", "cooldown_seconds_left": 0.0,
                               "last_error": None, "in_flight": 0, "last_check": None,
                               "last_check_seconds_ago": None}
    patched = api("patch", f"/models/{route['id']}", json={"strategy": "lowest_latency"})
    assert patched.get_json()["data"]["strategy"] == "lowest_latency"
    assert patched.get_json()["data"]["weight"] == 3
    assert api("post", "/models", json={**base, "weight": 0}).status_code == 400
    assert api("post", "/models", json={**base, "strategy": "round-robin"}).status_code == 400


def test_a_failing_deployment_shows_cooling_down_everywhere_an_admin_looks(
        app, api, client, stored_vendor, member, make_user):
    failing = api("post", "/models", json={"public_name": "chat", "vendor": "fake",
                                           "upstream_model": "error-503", "priority": 0})
    api("post", "/models", json={"public_name": "chat", "vendor": "fake",
                                 "upstream_model": "fake-chat", "priority": 1})
    route_id = failing.get_json()["data"]["id"]

    answer = client.post("/v1/chat/completions", headers=member, json={
        "model": "chat", "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 200  # fell back to the healthy deployment
    assert answer.headers["x-parlor-route"] == "fake/fake-chat"

    health = api("get", f"/models/{route_id}").get_json()["data"]["health"]
    assert health["state"] == "cooling" and health["last_error"] == "unavailable"
    assert 0 < health["cooldown_seconds_left"] <= 120

    browser = app.test_client()
    log_in(browser, ADMIN_EMAIL, PASSWORD)
    page = browser.get("/admin/models/").get_data(as_text=True)
    assert 'data-health="cooling"' in page and "cooling down" in page
    metrics = browser.get("/metrics").get_data(as_text=True)
    assert 'parlor_route_cooldowns_total{vendor="fake"} 1.0' in metrics
