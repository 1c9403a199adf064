"""Issue 20 item 5: a worker past its admission limit answers 503 with ``Retry-After`` in the
caller's shape, before any work (no database, no authentication); health and metrics are
always served, and each refusal is counted in ``parlor_shed_total``.

The in-process tests hold one stream open against a limit of one request; the gunicorn test
queues a burst behind a stopped worker (SIGSTOP), so it lands on the event loop at once and
keeps the loop busy past a 1 ms limit.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import anthropic
import openai
import pytest
import requests
from sqlalchemy import event

from app.extensions import db
from tests.conftest import eventually, fake_vendor_env
from tests.test_metrics import parse, value

TOKEN = "shedding-metrics-token"
BUSY = "Parlor is at capacity right now; try again in a moment."
BURST = 20


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(PARLOR_MAX_CONCURRENT_REQUESTS=1, PARLOR_METRICS_TOKEN=TOKEN,
                    **fake_vendor_env(fake_vendor, "openai", "anthropic"))


@pytest.fixture
def held_stream(live_server, make_key):
    """A slow stream read up to its first chunk and held open: the worker is at its limit."""
    key = make_key()
    with open_slow_stream(live_server, key):
        yield key


def open_slow_stream(base_url: str, key: str) -> requests.Response:
    """A slow stream read up to its first chunk; closing the response hangs up."""
    stream = requests.post(base_url + "/v1/chat/completions", stream=True, timeout=30,
                           headers={"Authorization": f"Bearer {key}"},
                           json={"model": "openai/slow-stream", "stream": True,
                                 "messages": [{"role": "user", "content": "hi"}]})
    assert stream.status_code == 200
    assert stream.raw.read(16)  # (a discarded iter_content generator would end the stream)
    return stream


def statements_during(app, action):
    """``action()``'s result and the SQL statements the app ran meanwhile."""
    seen = []

    def count(*args):
        seen.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        return action(), seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_openai_sdk_gets_503_with_retry_after_in_openai_shape(app, live_server, held_stream):
    client = openai.OpenAI(base_url=live_server + "/v1", api_key=held_stream, max_retries=0)

    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="openai/fake-chat",
                                       messages=[{"role": "user", "content": "hi"}])

    error = raised.value
    assert error.status_code == 503
    assert error.response.headers["retry-after"] == "1"
    assert error.body == {"message": BUSY, "type": "server_error", "param": None,
                          "code": "service_unavailable"}


def test_anthropic_sdk_gets_503_with_retry_after_in_anthropic_shape(app, live_server,
                                                                      held_stream):
    client = anthropic.Anthropic(base_url=live_server, api_key=held_stream, max_retries=0)

    with pytest.raises(anthropic.InternalServerError) as raised:
        client.messages.create(model="anthropic/fake-chat", max_tokens=16,
                               messages=[{"role": "user", "content": "hi"}])

    error = raised.value
    assert error.status_code == 503
    assert error.response.headers["retry-after"] == "1"
    assert error.body["type"] == "error"
    assert error.body["error"] == {"type": "api_error", "message": BUSY}


def test_rest_api_and_browser_get_their_own_503(app, live_server, held_stream):
    rest = requests.get(live_server + "/api/v1/me", timeout=10,
                        headers={"Authorization": f"Bearer {held_stream}"})
    page = requests.get(live_server + "/login", timeout=10)

    assert rest.status_code == 503 and rest.headers["Retry-After"] == "1"
    assert rest.json() == {"error": {"code": "unavailable", "message": BUSY, "details": None}}
    assert page.status_code == 503 and page.headers["Retry-After"] == "1"
    assert page.headers["Content-Type"].startswith("text/html")
    assert BUSY in page.text and "<h1>503</h1>" in page.text
    stylesheet = requests.get(live_server + "/static/css/parlor.css", timeout=10)
    assert stylesheet.status_code == 200  # the error page itself is styled


def test_shed_request_is_refused_before_authentication_or_any_query(app, live_server,
                                                                    held_stream):
    def send():
        return requests.get(live_server + "/v1/models", timeout=10,
                            headers={"Authorization": "Bearer pk-not-a-real-key"})

    response, statements = statements_during(app, send)

    assert response.status_code == 503  # not 401: the key was never looked at
    assert statements == []


def test_health_and_metrics_are_served_while_shedding_and_count_the_refusals(
        app, live_server, held_stream):
    def scrape():
        response = requests.get(live_server + "/metrics", timeout=10,
                                headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.text
        return parse(response.text)

    before = value(scrape(), "parlor_shed_total", reason="concurrency")
    shed = requests.get(live_server + "/v1/models", timeout=10,
                        headers={"Authorization": f"Bearer {held_stream}"})

    assert shed.status_code == 503
    assert requests.get(live_server + "/healthz", timeout=10).status_code == 200
    assert requests.get(live_server + "/readyz", timeout=10).status_code == 200
    assert value(scrape(), "parlor_shed_total", reason="concurrency") == before + 1


def test_requests_are_admitted_again_once_the_stream_ends(app, live_server, make_key):
    key = make_key()
    headers = {"Authorization": f"Bearer {key}"}
    with open_slow_stream(live_server, key):
        busy = requests.get(live_server + "/v1/models", headers=headers, timeout=10)
    # the client hung up: the server notices on its next write and lets go of the stream

    def admitted():
        return requests.get(live_server + "/v1/models", headers=headers,
                            timeout=10).status_code == 200

    assert busy.status_code == 503
    assert eventually(admitted, timeout=15)


def test_a_gunicorn_worker_holding_its_limit_sheds_until_its_stream_ends(app, parlor_process,
                                                                          make_key):
    server = parlor_process()  # the test's environment: a limit of one request a worker
    key = make_key()
    headers = {"Authorization": f"Bearer {key}"}

    with open_slow_stream(server.url, key):
        busy = requests.get(server.url + "/v1/models", headers=headers, timeout=30)
        health = requests.get(server.url + "/healthz", timeout=30)

    def admitted():
        return requests.get(server.url + "/v1/models", headers=headers,
                            timeout=30).status_code == 200

    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert health.status_code == 200
    assert eventually(admitted, timeout=20)
    scraped = requests.get(server.url + "/metrics", timeout=10,
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert value(parse(scraped.text), "parlor_shed_total", reason="concurrency") >= 1


def test_a_worker_busy_past_its_loop_lag_limit_sheds_with_reason_loop_lag(parlor_process,
                                                                           make_app):
    make_app()  # the schema the gunicorn worker reads (it shares the test's database)
    server = parlor_process(PARLOR_MAX_LOOP_LAG_MS="1", PARLOR_METRICS_TOKEN=TOKEN)
    headers = {"Authorization": "Bearer pk-not-a-real-key"}
    # An invalid key: a worker that admits the request answers 401, one that sheds 503.
    worker = _only_worker(server.process.pid)
    answers: list[requests.Response | Exception] = []

    def send():
        try:
            answers.append(requests.get(server.url + "/v1/models", headers=headers, timeout=60))
        except requests.RequestException as exc:
            answers.append(exc)

    senders = [threading.Thread(target=send) for _ in range(BURST)]
    os.kill(worker, signal.SIGSTOP)  # the burst queues up, then lands on the loop at once
    try:
        for sender in senders:
            sender.start()
        time.sleep(1)
    finally:
        os.kill(worker, signal.SIGCONT)
    for sender in senders:
        sender.join(timeout=60)

    statuses = sorted(getattr(answer, "status_code", repr(answer)) for answer in answers)
    assert set(statuses) <= {401, 503} and 503 in statuses, statuses  # answered, none dropped
    shed = next(answer for answer in answers if answer.status_code == 503)
    assert shed.headers["retry-after"] == "1"
    assert shed.json()["error"] == {"message": BUSY, "type": "server_error", "param": None,
                                    "code": "service_unavailable"}
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
    scraped = requests.get(server.url + "/metrics", timeout=10,
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert value(parse(scraped.text), "parlor_shed_total", reason="loop_lag") == \
        statuses.count(503)


def _only_worker(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])
