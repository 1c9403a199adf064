"""Issue 20 item 4: restarts that lose nothing. A gunicorn reload (``kill -HUP``: new workers,
the old ones finish what they hold) and a rolling restart of two instances (each stopped with
SIGTERM, gunicorn's graceful stop, then started again), both during streams and a steady
request loop: no request fails and every stream ends whole, its usage row written.

A modest load (the machine is shared): 50 streams of ~5 s and one request loop. The client
spreads requests over the instances as a load balancer does: an instance is taken out of its
rotation before it is stopped (a connection queued on a listening socket that then closes is
reset, request and all: gunicorn's graceful stop does not drain its accept queue), put back
once it answers again, and a refused connection moves on to the other instance.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

import config
from app import create_app
from app.extensions import db
from app.models import UsageRecord
from app.services import accounts
from tests.conftest import CONFIG_VARIABLES, TEST_FERNET_KEY, eventually, new_key
from tests.processes import ParlorProcess

STREAMS = 50
MODEL = "openai/slow-stream"  # the fake vendor's 500 words, chunk_delay apart


@pytest.fixture
def env(own_postgres_url, fake_vendor, tmp_path):
    """Both instances' environment: one PostgreSQL database, the fake vendor."""
    fake_vendor.chunk_delay = 0.01  # ~5 s a stream: it outlives the restart that starts mid-way
    return {"DATABASE_URL": own_postgres_url, "PARLOR_INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "zero-downtime-secret", "PARLOR_ENCRYPTION_KEYS": TEST_FERNET_KEY,
            "OPENAI_BASE_URL": fake_vendor.openai_base_url, "OPENAI_API_KEY": fake_vendor.api_key,
            "PARLOR_VENDOR_RETRIES": "0", "PARLOR_RATE_LIMIT": "1000000/minute",
            "PARLOR_USAGE_FLUSH_MS": "0", "LOG_LEVEL": "WARNING"}


@pytest.fixture
def app(env, monkeypatch):
    """The test's own view of the instances' database."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app(config.TestingConfig())
    with app.app_context():
        accounts.ensure_builtin_roles()
        db.session.execute(db.delete(UsageRecord))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def instances(env, tmp_path):
    """Start Parlor instances (gunicorn, as ``make serve``) with ``env``; stopped at the end."""
    host = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    started: list[ParlorProcess] = []

    def start(name: str, port: int | None = None) -> ParlorProcess:
        process = ParlorProcess(tmp_path, name, {**host, **env})
        if port is not None:
            process.port = port
        started.append(process)
        return process.spawn().wait_ready()

    yield start
    for process in started:
        process.stop()


class Load:
    """Streams and a request loop against ``urls`` (tried in turn; a refused connection moves
    on to the next, as a load balancer would). Records every outcome."""

    def __init__(self, urls: list[str], key: str):
        self.urls = urls
        self.headers = {"Authorization": f"Bearer {key}"}
        self.failures: list[str] = []
        self.streams_done = 0
        self.loop_ok = 0
        self.first_chunks = threading.Semaphore(0)
        self._running = True
        self._threads: list[threading.Thread] = []
        self._turn = 0

    def _send(self, method: str, path: str, **options) -> requests.Response:
        self._turn += 1
        for attempt in range(40):
            urls = self.urls  # the balancer's rotation, changed by the restart as it goes
            url = urls[(self._turn + attempt) % len(urls)]
            try:
                return requests.request(method, url + path, headers=self.headers, timeout=60,
                                        **options)
            except requests.ConnectionError as exc:
                if "refused" not in str(exc).lower():
                    raise AssertionError(f"{method} {path} at {time.time():.3f}: {exc!r}") from exc
                time.sleep(0.05)  # every instance refused: one is about to listen again
        raise AssertionError("no instance accepted the connection")

    def _stream(self) -> None:
        try:
            response = self._send("POST", "/v1/chat/completions", stream=True,
                                  json={"model": MODEL, "stream": True,
                                        "messages": [{"role": "user", "content": "hi"}]})
            if response.status_code != 200:
                self.failures.append(f"stream: {response.status_code} {response.text[:200]}")
                return
            body, signalled = b"", False
            for chunk in response.iter_content(chunk_size=None):
                body += chunk
                if not signalled:
                    self.first_chunks.release()
                    signalled = True
            if not body.rstrip().endswith(b"data: [DONE]"):
                self.failures.append(f"stream cut short: {body[-200:]!r}")
            else:
                self.streams_done += 1
        except Exception as exc:  # noqa: BLE001 - every failure is the test's finding
            self.failures.append(f"stream: {exc!r}")

    def _loop(self) -> None:
        while self._running:
            try:
                models = self._send("GET", "/v1/models")
                reply = self._send("POST", "/v1/chat/completions",
                                   json={"model": "openai/fake-chat",
                                         "messages": [{"role": "user", "content": "ping"}]})
                for response in (models, reply):
                    if response.status_code != 200:
                        self.failures.append(f"loop: {response.status_code} "
                                             f"{response.text[:200]}")
                self.loop_ok += 1
            except Exception as exc:  # noqa: BLE001
                self.failures.append(f"loop: {exc!r}")

    def start(self) -> None:
        # daemons: a test that fails half-way must not keep pytest from exiting
        self._threads = [threading.Thread(target=self._stream, daemon=True)
                         for _ in range(STREAMS)]
        self._threads.append(threading.Thread(target=self._loop, daemon=True))
        for thread in self._threads:
            thread.start()
        for _ in range(STREAMS):  # every stream is under way before the restart
            assert self.first_chunks.acquire(timeout=120), self.failures

    def finish(self) -> None:
        time.sleep(1)  # the loop runs on against the restarted servers
        self._running = False
        for thread in self._threads:
            thread.join(timeout=120)


def workers_of(master: int) -> set[int]:
    return {int(pid) for pid in
            Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def usage_statuses(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(db.select(UsageRecord.model, UsageRecord.status)).all()
    statuses: dict[str, int] = {}
    for model, status in rows:
        if model == MODEL:
            statuses[status] = statuses.get(status, 0) + 1
    return statuses


def test_reload_with_hup_keeps_every_stream_and_request(app, instances):
    server = instances("reload")
    old_workers = workers_of(server.process.pid)
    load = Load([server.url], new_key(app, "reload@example.com"))

    load.start()
    server.process.send_signal(signal.SIGHUP)  # new workers; the old ones finish gracefully
    replaced = eventually(lambda: workers_of(server.process.pid).isdisjoint(old_workers)
                          and workers_of(server.process.pid), timeout=90)
    load.finish()

    assert replaced, "the old workers did not stop"
    assert load.failures == [], server.log()
    assert load.streams_done == STREAMS and load.loop_ok > 0
    assert eventually(lambda: usage_statuses(app) == {"complete": STREAMS}, timeout=20), \
        usage_statuses(app)


def test_rolling_restart_of_two_instances_keeps_every_stream_and_request(app, instances):
    a, b = instances("a"), instances("b")
    load = Load([a.url, b.url], new_key(app, "rolling@example.com"))

    load.start()
    for name, server, other in (("a", a, b), ("b", b, a)):
        load.urls = [other.url]  # out of the balancer's rotation first: drained, not cut
        time.sleep(1)  # connections already on their way to it are accepted and served
        server.process.send_signal(signal.SIGTERM)  # graceful: stop listening, finish streams
        server.process.wait(timeout=90)
        instances(name, port=server.port)  # the same address, as a deployment restarts it
        load.urls = [a.url, b.url]  # ready (/healthz answered): back in rotation
    load.finish()

    assert load.failures == []
    assert load.streams_done == STREAMS and load.loop_ok > 0
    assert eventually(lambda: usage_statuses(app) == {"complete": STREAMS}, timeout=20), \
        usage_statuses(app)
