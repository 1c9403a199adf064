"""Issue 6's multi-instance check: two gunicorn processes sharing one PostgreSQL and one Redis.

A and B are separate Parlor processes; nothing they share lives in either one. They boot once
for the module (a boot costs seconds), so each test uses users and keys of its own.
"""

from __future__ import annotations

import os
import shutil

import pytest
import requests

import config
from app import create_app
from app.extensions import db
from app.models import VendorCredential
from app.services import accounts
from tests.conftest import CONFIG_VARIABLES, PASSWORD, TEST_FERNET_KEY, csrf_token, eventually
from tests.processes import ParlorProcess, start_chat, web_session
from tests.servers import RedisServer
from tests.web.conftest import stored_messages, stream_urls


@pytest.fixture(scope="module")
def cluster_env(own_postgres_url, fake_vendor_server, tmp_path_factory):
    """The environment of both processes: a Redis of the module's own, the shared database."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    redis.start()
    env = {"DATABASE_URL": own_postgres_url, "REDIS_URL": redis.url,
           "PARLOR_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
           "SECRET_KEY": "two-processes-secret", "PARLOR_ENCRYPTION_KEYS": TEST_FERNET_KEY,
           "OPENAI_BASE_URL": fake_vendor_server.openai_base_url,
           "OPENAI_API_KEY": fake_vendor_server.api_key, "PARLOR_VENDOR_RETRIES": "0",
           # 5 an hour, not a minute: a fixed window turning over mid-test would reset the count.
           "PARLOR_RATE_LIMIT": "5/hour", "PARLOR_CATALOG_TTL": "1"}
    try:
        yield env
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def a_and_b(cluster_env, tmp_path_factory):
    host = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    logs = tmp_path_factory.mktemp("logs")
    processes = [ParlorProcess(logs, name, {**host, **cluster_env}).spawn() for name in "ab"]
    try:
        for process in processes:  # booted side by side
            process.wait_ready()
        yield tuple(processes)
    finally:
        for process in processes:
            process.stop()


@pytest.fixture
def app(cluster_env, fake_vendor, monkeypatch):
    """The test's own view of the shared database."""
    fake_vendor.models = [*fake_vendor.models, "slow-stream"]  # offered in the model picker
    for name, value in cluster_env.items():
        monkeypatch.setenv(name, value)
    app = create_app(config.TestingConfig())
    with app.app_context():
        accounts.ensure_builtin_roles()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def add_user(app, email: str, role: str = "member") -> int:
    with app.app_context():
        user = accounts.create_user(email, PASSWORD, role=role)
        db.session.commit()
        return user.id


def test_a_keys_rate_limit_is_shared_by_both_processes(a_and_b, make_key):
    a, b = a_and_b
    headers = {"Authorization": f"Bearer {make_key('limited@example.com')}"}

    statuses = [requests.get(server.url + "/v1/models", headers=headers, timeout=10).status_code
                for server in (a, b, a, b, a, b)]

    assert statuses == [200] * 5 + [429]


def test_stop_sent_to_b_ends_a_chat_stream_served_by_a(app, a_and_b, fake_vendor):
    a, b = a_and_b
    add_user(app, "streamer@example.com")
    session = web_session(a.url, "streamer@example.com", PASSWORD)  # the cookie works on both
    location = start_chat(session, a.url, "openai/slow-stream")
    page = session.get(location, timeout=10).text
    [url] = stream_urls(page)
    stream = session.get(a.url + url, stream=True, timeout=20)
    events = stream.iter_lines(decode_unicode=True)
    seen = []
    while "event: delta" not in seen:
        seen.append(next(events))

    stopped = session.post(b.url + url.replace("/stream", "/stop"), timeout=10,
                           data={"csrf_token": csrf_token(page)})
    seen.extend(events)  # A ends the stream by itself once it sees the flag

    assert stopped.status_code == 204
    final = "\n".join(seen).split("event: done", 1)[1]
    assert 'data-status="stopped"' in final
    reply = stored_messages(app, location.rsplit("/", 1)[1])[-1]
    assert reply.status == "stopped" and reply.content.startswith("tick")
    assert fake_vendor.wait_for_disconnect("slow-stream", timeout=10)


def test_user_disabled_through_a_is_refused_by_b_on_the_next_request(app, a_and_b, make_key):
    a, b = a_and_b
    member_id = add_user(app, "leaver@example.com")
    add_user(app, "admin@example.com", role="admin")
    key = make_key("leaver@example.com")
    member = web_session(b.url, "leaver@example.com", PASSWORD)
    assert member.get(b.url + "/", allow_redirects=False, timeout=10).status_code == 200
    admin = web_session(a.url, "admin@example.com", PASSWORD)
    user_page = admin.get(f"{a.url}/admin/users/{member_id}", timeout=10).text

    disabled = admin.post(f"{a.url}/admin/users/{member_id}/enabled", allow_redirects=False,
                          data={"csrf_token": csrf_token(user_page), "enabled": "0"}, timeout=10)

    assert disabled.status_code == 302
    api = requests.get(b.url + "/v1/models", headers={"Authorization": f"Bearer {key}"},
                       timeout=10)
    assert api.status_code == 401
    page = member.get(b.url + "/", allow_redirects=False, timeout=10)
    assert page.status_code in (302, 401)
    if page.status_code == 302:
        assert "/login" in page.headers["Location"]


def test_route_added_through_a_is_offered_by_b_within_the_catalog_ttl(app, a_and_b):
    a, b = a_and_b
    add_user(app, "catalog-admin@example.com", role="admin")
    with app.app_context():
        # Stored directly: the admin form refuses a loopback base URL (SSRF guard).
        credential = VendorCredential(name="team", kind="openai-compatible",
                                      base_url="http://127.0.0.1:9/v1")
        db.session.add(credential)
        db.session.commit()
        credential_id = credential.id
    admin = web_session(a.url, "catalog-admin@example.com", PASSWORD)  # valid on both

    def offered_by_b() -> bool:  # the new-chat model picker; page views are not rate limited
        return "team-model" in admin.get(b.url + "/", timeout=10).text

    assert not offered_by_b()  # B has the old catalog cached now
    form = admin.get(a.url + "/admin/models/", timeout=10).text
    created = admin.post(a.url + "/admin/models/", allow_redirects=False, timeout=10,
                         data={"csrf_token": csrf_token(form), "public_name": "team-model",
                               "credential_id": credential_id, "upstream_model": "fake-chat",
                               "enabled": "y", "priority": "0"})

    assert created.status_code == 302, created.text[:500]
    assert eventually(offered_by_b, timeout=5)
