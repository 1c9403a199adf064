"""Parlor's image (the root Dockerfile), built on a Debian base made here and run with podman
against the machine's PostgreSQL and Redis, with the fake vendor on the host behind it."""

from __future__ import annotations

import json
import re
import secrets
import time

import pytest
import requests

from tests.deploy.clients import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    conversation_texts,
    key_from_output,
    log_in,
    new_conversation,
    streamed_reply,
)
from tests.deploy.podman import Container, podman, run_once, wait_ready
from tests.postgres import throwaway_database
from tests.servers import free_port

pytestmark = pytest.mark.deploy
REDIS_DB = 13  # the shared Redis, on a database number of its own (flushed before and after)


@pytest.fixture(scope="module")
def redis_url():
    import redis

    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def image_env(production_secrets, redis_url, fake_vendor_server):
    """The container's whole configuration, through the environment only."""
    with throwaway_database("parlor_deploy_") as database:
        yield {**production_secrets,
               "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
               "REDIS_URL": redis_url, "PORT": str(free_port()),
               "PARLOR_ADMIN_EMAIL": ADMIN_EMAIL, "PARLOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
               "OPENAI_BASE_URL": fake_vendor_server.openai_base_url,
               "OPENAI_API_KEY": fake_vendor_server.api_key, "PARLOR_VENDOR_RETRIES": "0"}


@pytest.fixture(scope="module")
def migrated(app_image, image_env):
    """``IMAGE migrate``: migrations and the first admin, then the container exits."""
    done = run_once(app_image, image_env, "migrate")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def served(app_image, image_env, migrated):
    """``IMAGE`` with no command: gunicorn serving on 0.0.0.0:$PORT."""
    container = Container.start(f"parlor-deploy-{secrets.token_hex(3)}", app_image, image_env)
    base_url = f"http://127.0.0.1:{image_env['PORT']}"
    try:
        wait_ready(base_url, container.logs)
        yield container, base_url
    finally:
        container.remove()


@pytest.fixture(scope="module")
def api_key(app_image, image_env, served) -> str:
    """A key made the way an operator would: ``flask --app run`` in a one-off container."""
    done = run_once(app_image, image_env, "flask", "--app", "run", "keys", "create", ADMIN_EMAIL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return key_from_output(done.stdout)


def test_migrate_command_migrates_and_creates_the_first_admin_then_exits(migrated):
    assert "Running upgrade" in migrated
    assert f"Created the first admin: {ADMIN_EMAIL}" in migrated


def test_migrate_and_serve_without_the_production_secrets_fail_at_once_saying_why(app_image):
    for command in ("migrate", "serve"):
        started = time.monotonic()
        done = run_once(app_image, {}, command, timeout=60)
        assert done.returncode != 0
        assert "Production needs SECRET_KEY and PARLOR_ENCRYPTION_KEYS" in done.stderr
        assert "Traceback" not in done.stderr
        assert time.monotonic() - started < 20, "no retrying a configuration error"


def test_without_a_database_url_sqlite_lives_in_the_non_root_data_folder(app_image,
                                                                         production_secrets):
    done = run_once(app_image, production_secrets, "sh", "-c",
                    "parlor-entrypoint migrate >/dev/null && ls /var/lib/parlor")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "parlor.db" in done.stdout.split()


def test_healthz_readyz_and_the_images_healthcheck_pass(served):
    container, base_url = served
    assert requests.get(base_url + "/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(base_url + "/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
    check = container.healthcheck()
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_process_of_the_container_runs_as_a_non_root_user(served):
    container, _ = served
    uids = container.process_uids()
    assert uids and 0 not in uids, uids
    user = podman("image", "inspect", "--format", "{{.Config.User}}", container_image(container))
    assert user.stdout.strip() not in ("", "0", "root", "0:0")


def container_image(container: Container) -> str:
    return podman("inspect", "--format", "{{.ImageName}}", container.name).stdout.strip()


def test_image_bakes_in_no_secret_and_only_the_files_parlor_runs_from(app_image):
    env = json.loads(podman("image", "inspect", "--format", "{{json .Config.Env}}",
                            app_image).stdout)
    settings = dict(item.split("=", 1) for item in env)
    assert settings["PARLOR_ENV"] == "production" and settings["PORT"] == "5000"
    assert not {name for name in settings if re.search("SECRET|KEY|PASSWORD|TOKEN|DATABASE_URL",
                                                         name)}
    listing = run_once(app_image, {}, "ls", "-A", "/app")
    assert sorted(listing.stdout.split()) == [
        "app", "config.py", "gunicorn.conf.py", "migrations", "run.py", "static", "templates"]


def test_the_first_admin_logs_in_through_the_login_form(served):
    _, base_url = served
    log_in(base_url)


def test_wrong_password_is_refused(served):
    _, base_url = served
    with pytest.raises(AssertionError):
        log_in(base_url, password="not-the-password")


def test_streamed_completion_reaches_the_fake_vendor_on_the_host(served, api_key,
                                                                 fake_vendor_server):
    _, base_url = served
    assert streamed_reply(base_url, api_key, "hello from a container") == (
        "Echo: hello from a container")
    assert fake_vendor_server.requests_for("fake-chat"), "the vendor was never called"


def test_a_restart_keeps_users_keys_and_conversations(served, api_key):
    container, base_url = served
    conversation = new_conversation(base_url, api_key, "remember this")
    before = conversation_texts(base_url, api_key, conversation)
    assert before == ["remember this", "Echo: remember this"]

    container.restart()
    wait_ready(base_url, container.logs)

    assert conversation_texts(base_url, api_key, conversation) == before
    log_in(base_url)


def test_migrate_on_start_opt_in_serves_a_fresh_database(app_image, image_env):
    with throwaway_database("parlor_deploy_fresh_") as database:
        env = {**image_env, "PORT": str(free_port()), "PARLOR_MIGRATE_ON_START": "1",
               "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}"}
        container = Container.start(f"parlor-deploy-{secrets.token_hex(3)}", app_image, env)
        try:
            base_url = f"http://127.0.0.1:{env['PORT']}"
            wait_ready(base_url, container.logs)
            log_in(base_url)
        finally:
            container.remove()
