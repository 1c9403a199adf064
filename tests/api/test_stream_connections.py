"""Streams do not hold a database connection while the vendor talks: a worker relays far more
streams at once than its connection pool has connections."""

from __future__ import annotations

import threading

import httpx2
import pytest

import config
from app import create_app
from app.extensions import db
from app.services import accounts

STREAMS = 4  # each minutes long in real life; here four times the pool


@pytest.fixture
def app(monkeypatch, tmp_path, fake_vendor):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/pool.db")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_vendor.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", fake_vendor.api_key)
    one_connection = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 1}
    app = create_app(config.TestingConfig(SQLALCHEMY_ENGINE_OPTIONS=one_connection))
    with app.app_context():
        db.create_all()
        accounts.ensure_builtin_roles()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_more_concurrent_streams_than_pooled_connections_all_complete(
        app, live_server, make_key, fake_vendor):
    key = make_key()
    results: list[str] = []

    def stream() -> None:
        # the vendor keeps each stream waiting 1.5 s for its first byte: they all overlap
        body = {"model": "openai/slow-first-byte-1.5", "stream": True,
                "messages": [{"role": "user", "content": "one two three"}]}
        with httpx2.stream("POST", live_server + "/v1/chat/completions", json=body,
                           headers={"Authorization": f"Bearer {key}"}, timeout=30) as reply:
            results.append(f"{reply.status_code} {reply.read().decode()[-40:]!r}")

    threads = [threading.Thread(target=stream) for _ in range(STREAMS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == STREAMS
    assert all(result.startswith("200") and "[DONE]" in result for result in results), results
