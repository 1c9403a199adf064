"""``GET /metrics``: who may read it, and the series moving with real calls to the fake vendor.

The counters live in the process for the whole session, so each test compares values before
and after what it does.
"""

from __future__ import annotations

import glob
import os
import secrets
import time

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from app import metrics
from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services import accounts
from tests.conftest import PASSWORD, fake_vendor_env, log_in
from tests.processes import ParlorProcess

TOKEN = "metrics-" + secrets.token_hex(8)
CHAT = "/v1/chat/completions"


@pytest.fixture
def app(make_app, fake_vendor):
    app = make_app(PARLOR_METRICS_TOKEN=TOKEN, PARLOR_VENDOR_RETRIES=2,
                   **fake_vendor_env(fake_vendor, "openai"))
    app.extensions["parlor.vendors"].manager.sleep = lambda seconds: None  # retry at once
    return app


@pytest.fixture
def key(make_key):
    return {"Authorization": f"Bearer {make_key()}"}


def scrape(client) -> dict:
    """Every sample of ``/metrics``, as {(name, labels): value}."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse(response.get_data(as_text=True))


def parse(text: str) -> dict:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def chat(model: str, stream: bool = False) -> dict:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}


# -- access ---------------------------------------------------------------------------------


def test_metrics_without_credentials_is_401_json(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "authentication"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "parlor_" not in response.get_data(as_text=True)


def test_metrics_with_a_wrong_token_is_401(client):
    for header in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN,
                   "Bearer \u00e9t\u00e9"):
        response = client.get("/metrics", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_metrics_with_the_token_is_prometheus_text(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE parlor_http_requests_total counter" in response.get_data(as_text=True)


def test_metrics_in_openmetrics_when_the_scraper_asks(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}",
                                                "Accept": "application/openmetrics-text"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.get_data(as_text=True).endswith("# EOF\n")


def test_metrics_with_a_bad_accept_version_falls_back_to_text(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}",
                                                "Accept": "text/plain; version=abc"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")


def test_metrics_for_a_member_session_is_403_and_for_an_admin_session_200(app, make_user):
    member, admin = app.test_client(), app.test_client()
    make_user("member@example.com")
    log_in(member, "member@example.com")
    response = member.get("/metrics")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "permission"

    make_user("admin@example.com", role="admin")
    log_in(admin, "admin@example.com")
    response = admin.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")


def test_metrics_without_a_configured_token_take_no_bearer_at_all(make_app):
    app = make_app()
    client = app.test_client()
    for header in ("Bearer ", "Bearer None", f"Bearer {TOKEN}"):
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 401
    with app.app_context():
        accounts.create_user("admin@example.com", PASSWORD, role="admin")
        db.session.commit()
    log_in(client, "admin@example.com")
    assert client.get("/metrics").status_code == 200


# -- HTTP series ----------------------------------------------------------------------------


def test_route_labels_are_url_rules_never_raw_paths(client, key):
    model_id = "gpt-" + secrets.token_hex(6)
    lost = "/no-such-page-" + secrets.token_hex(6)
    before = scrape(client)
    client.get(f"/v1/models/{model_id}", headers=key)
    client.get(lost)
    client.open("/healthz", method="BREW")  # any token is a method to werkzeug
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True)
    after = parse(text)

    assert model_id not in text and lost not in text and "BREW" not in text
    rule = {"method": "GET", "route": "/v1/models/<path:model_id>", "status": "404"}
    assert value(after, "parlor_http_requests_total", **rule) == value(
        before, "parlor_http_requests_total", **rule) + 1
    unmatched = {"method": "GET", "route": metrics.UNMATCHED, "status": "404"}
    assert value(after, "parlor_http_requests_total", **unmatched) >= value(
        before, "parlor_http_requests_total", **unmatched) + 1
    assert value(after, "parlor_http_requests_total", method="other", route=metrics.UNMATCHED,
                 status="405") >= 1


def test_a_chat_completion_moves_the_request_and_upstream_series(client, key):
    before = scrape(client)
    response = client.post(CHAT, json=chat("openai/fake-chat"), headers=key)
    assert response.status_code == 200
    after = scrape(client)

    request = {"method": "POST", "route": CHAT, "status": "200"}
    assert value(after, "parlor_http_requests_total", **request) == value(
        before, "parlor_http_requests_total", **request) + 1
    timed = {"method": "POST", "route": CHAT}
    assert value(after, "parlor_http_request_duration_seconds_count", **timed) == value(
        before, "parlor_http_request_duration_seconds_count", **timed) + 1
    upstream = {"vendor": "openai", "model": "fake-chat"}
    assert value(after, "parlor_upstream_duration_seconds_count", **upstream) == value(
        before, "parlor_upstream_duration_seconds_count", **upstream) + 1
    assert value(after, "parlor_upstream_duration_seconds_sum", **upstream) > value(
        before, "parlor_upstream_duration_seconds_sum", **upstream)


def test_a_chat_completion_counts_its_tokens(client, key):
    before = scrape(client)
    body = client.post(CHAT, json=chat("openai/fake-chat"), headers=key).get_json()
    after = scrape(client)
    labels = {"vendor": "openai", "model": "fake-chat"}
    assert value(after, "parlor_tokens_total", type="input", **labels) == value(
        before, "parlor_tokens_total", type="input", **labels) + body["usage"]["prompt_tokens"]
    assert value(after, "parlor_tokens_total", type="output", **labels) == value(
        before, "parlor_tokens_total", type="output", **labels) + body["usage"][
        "completion_tokens"]


def test_count_tokens_adds_input_and_output_and_skips_zero(client):
    model = "counted-" + secrets.token_hex(4)
    metrics.count_tokens("openai", model, 12, 34)
    metrics.count_tokens("openai", model, 0, 6)
    samples = scrape(client)
    assert value(samples, "parlor_tokens_total", vendor="openai", model=model, type="input") == 12
    assert value(samples, "parlor_tokens_total", vendor="openai", model=model,
                 type="output") == 40


def test_model_labels_stop_at_the_cap_and_become_other(monkeypatch, client):
    monkeypatch.setattr(metrics, "_models", set())
    monkeypatch.setattr(metrics, "MAX_MODELS", 1)
    first, second = "capped-" + secrets.token_hex(4), "capped-" + secrets.token_hex(4)
    metrics.count_tokens("capvendor", first, 1, 0)
    metrics.count_tokens("capvendor", second, 1, 0)
    metrics.count_tokens("capvendor", first, 1, 0)
    samples = scrape(client)
    assert value(samples, "parlor_tokens_total", vendor="capvendor", model=first,
                 type="input") == 2
    assert value(samples, "parlor_tokens_total", vendor="capvendor", model="other",
                 type="input") >= 1
    assert not any(second in str(labels) for _, labels in samples)


# -- vendor series --------------------------------------------------------------------------


def test_a_flaky_model_counts_its_retries_and_errors_by_kind(client, key):
    before = scrape(client)
    response = client.post(CHAT, json=chat("openai/flaky-2"), headers=key)
    assert response.status_code == 200  # two 503s, then the answer
    after = scrape(client)

    assert value(after, "parlor_vendor_retries_total", vendor="openai") == value(
        before, "parlor_vendor_retries_total", vendor="openai") + 2
    errors = {"vendor": "openai", "kind": "unavailable"}
    assert value(after, "parlor_vendor_errors_total", **errors) == value(
        before, "parlor_vendor_errors_total", **errors) + 2


@pytest.mark.parametrize(("model", "kind"), [("openai/error-401", "auth"),
                                              ("openai/error-400", "bad_request"),
                                              ("openai/error-404", "model_not_found"),
                                              ("openai/error-504", "timeout")])
def test_vendor_errors_are_counted_by_kind(client, key, model, kind):
    before = scrape(client)
    response = client.post(CHAT, json=chat(model), headers=key)
    assert response.status_code >= 400
    after = scrape(client)
    errors = {"vendor": "openai", "kind": kind}
    assert value(after, "parlor_vendor_errors_total", **errors) > value(
        before, "parlor_vendor_errors_total", **errors)


def test_a_failed_route_falling_back_counts_one_fallback(app, client, key):
    with app.app_context():
        credential = VendorCredential(name="openai", kind="openai-compatible")
        for priority, upstream in enumerate(("error-403", "fake-chat")):
            db.session.add(ModelRoute(public_name=f"steady-{priority}", credential=credential,
                                      upstream_model=upstream, fallback_group="group",
                                      priority=priority))
        db.session.commit()
    before = scrape(client)
    response = client.post(CHAT, json=chat("steady-0"), headers=key)
    assert response.status_code == 200
    after = scrape(client)

    assert value(after, "parlor_vendor_fallbacks_total", vendor="openai") == value(
        before, "parlor_vendor_fallbacks_total", vendor="openai") + 1
    assert value(after, "parlor_vendor_retries_total", vendor="openai") == value(
        before, "parlor_vendor_retries_total", vendor="openai")  # a 403 is not retried


# -- streams --------------------------------------------------------------------------------


def test_a_v1_stream_times_its_first_token_and_leaves_no_active_stream(client, key):
    before = scrape(client)
    response = client.post(CHAT, json=chat("openai/fake-chat", stream=True), headers=key)
    assert "data: [DONE]" in response.get_data(as_text=True)
    after = scrape(client)

    first = {"vendor": "openai", "model": "fake-chat"}
    assert value(after, "parlor_upstream_first_token_seconds_count", **first) == value(
        before, "parlor_upstream_first_token_seconds_count", **first) + 1
    assert value(after, "parlor_active_streams", source="v1") == value(
        before, "parlor_active_streams", source="v1") == 0


def test_a_stream_cut_after_its_first_delta_counts_an_error(client, key):
    before = scrape(client)
    response = client.post(CHAT, json=chat("openai/cut-stream", stream=True), headers=key)
    assert '"error"' in response.get_data(as_text=True)  # the in-band error event
    after = scrape(client)
    errors = {"vendor": "openai", "kind": "unavailable"}
    assert value(after, "parlor_vendor_errors_total", **errors) > value(
        before, "parlor_vendor_errors_total", **errors)
    assert value(after, "parlor_active_streams", source="v1") == 0


def test_an_open_stream_is_active_until_the_client_leaves(live_server, key):
    def active() -> float:
        response = requests.get(live_server + "/metrics", timeout=10,
                                headers={"Authorization": f"Bearer {TOKEN}"})
        return value(parse(response.text), "parlor_active_streams", source="v1")

    assert active() == 0
    with requests.post(live_server + CHAT, json=chat("openai/slow-stream", stream=True),
                       headers=key, stream=True, timeout=10) as response:
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith(b"data:"))
        assert active() == 1
    deadline = time.monotonic() + 10  # the server notices at its next write
    while active() != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert active() == 0


# -- gunicorn, two workers ------------------------------------------------------------------


class TwoWorkers(ParlorProcess):
    """The repo's gunicorn.conf.py with two workers."""

    workers = 2


def healthz_counts(directory) -> list[float]:
    """Each worker's own count of ``GET /healthz``, read from its file."""
    counts = []
    for path in sorted(glob.glob(os.path.join(directory, "counter_*.db"))):
        samples = {(s.name, frozenset(s.labels.items())): s.value
                   for family in MultiProcessCollector.merge([path], accumulate=True)
                   for s in family.samples}
        counts.append(value(samples, "parlor_http_requests_total", method="GET",
                            route="/healthz", status="200"))
    return counts


def test_gunicorn_workers_metrics_are_added_up(tmp_path):
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_1.db").write_bytes(b"\0" * 16)  # a previous run's: removed at start
    server = TwoWorkers(tmp_path, "gunicorn", {
        **os.environ, "PARLOR_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(shared)})
    try:
        server.spawn().wait_ready()
        assert not (shared / "counter_1.db").exists()
        for _ in range(400):  # a new connection each time, until both workers served some
            requests.get(server.url + "/healthz?api_key=never-logged", timeout=5)
            counts = healthz_counts(shared)
            if len(counts) == 2 and all(counts):
                break
        assert len(counts) == 2 and all(counts), counts
        scraped = requests.get(server.url + "/metrics", timeout=5,
                               headers={"Authorization": f"Bearer {TOKEN}"})
        total = value(parse(scraped.text), "parlor_http_requests_total", method="GET",
                      route="/healthz", status="200")
    finally:
        server.stop()

    assert total == sum(counts) > max(counts)
    log = server.log_path.read_text()
    assert "never-logged" not in log
    assert '"logger": "parlor.access"' in log and '"path": "/healthz"' in log
