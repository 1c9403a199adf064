"""compose.yaml run with Debian's podman-compose: PostgreSQL and Redis (local images from
Debian's packages in place of the official ones), the migrate step and two Parlor replicas,
all on the host's network (tests/deploy/compose.host.yaml) at ports of the test's choosing."""

from __future__ import annotations

import secrets
import subprocess
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
from tests.deploy.podman import HERE, ROOT, Container, podman, podman_env, wait_ready
from tests.servers import free_port

pytestmark = pytest.mark.deploy
SERVICES = ("postgres_1", "redis_1", "parlor-1_1", "parlor-2_1")
REPLICAS = ("parlor-1_1", "parlor-2_1")


class Stack:
    """One compose project: ``podman-compose`` with compose.yaml and the host-network override."""

    def __init__(self, env: dict[str, str]):
        self.project = "parlordeploy" + secrets.token_hex(3)
        self.env = env
        self.base_url = f"http://127.0.0.1:{env['PARLOR_PORT']}"

    def compose(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            ["podman-compose", "--podman-path", str(HERE / "podman-host-network"),
             "-p", self.project, "-f", str(ROOT / "compose.yaml"),
             "-f", str(HERE / "compose.host.yaml"), *args],
            env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"podman-compose {args} failed:\n{done.stdout[-3000:]}" \
                                     f"\n{done.stderr[-3000:]}"
        return done.stdout + done.stderr

    def container(self, service: str) -> Container:
        return Container(f"{self.project}_{service}")

    def logs(self) -> str:
        return "\n".join(f"--- {service}\n{self.container(service).logs()[-1500:]}"
                         for service in ("migrate_1", *SERVICES))

    def up(self) -> str:
        """Start the stack; return once the migrations ran and the replicas are ready."""
        self.compose("up", "-d", "--no-build")
        # podman-compose 1.0.3 starts services in depends_on order without waiting for their
        # health (compose.yaml's conditions gate docker compose); the migrate step waits for
        # the database itself, and the replicas are checked once it has finished.
        waited = podman("wait", self.container("migrate_1").name, timeout=180, check=False)
        migrate = self.container("migrate_1").logs()
        assert waited.stdout.strip() == "0", f"migrate ended {waited.stdout}\n{self.logs()}"
        wait_ready(self.base_url, self.logs)
        return migrate

    def down(self, *args: str) -> None:
        self.compose("down", "-t", "15", *args)


@pytest.fixture(scope="module")
def stack(base_images, app_image, production_secrets, fake_vendor_server):
    env = {**podman_env(), **production_secrets,
           "PARLOR_IMAGE": app_image, "POSTGRES_IMAGE": base_images["postgres"],
           "REDIS_IMAGE": base_images["redis"], "POSTGRES_PASSWORD": secrets.token_hex(12),
           "POSTGRES_PORT": str(free_port()), "REDIS_PORT": str(free_port()),
           "PARLOR_PORT": str(free_port()), "PARLOR_DATABASE_HOST": "127.0.0.1",
           "PARLOR_REDIS_HOST": "127.0.0.1", "GUNICORN_CMD_ARGS": "--reuse-port",
           "PARLOR_ADMIN_EMAIL": ADMIN_EMAIL, "PARLOR_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "OPENAI_BASE_URL": fake_vendor_server.openai_base_url,
           "OPENAI_API_KEY": fake_vendor_server.api_key}
    stack = Stack(env)
    try:
        stack.first_migrate_log = stack.up()
        yield stack
    finally:
        try:
            stack.down("--volumes")
        finally:
            for volume in ("postgres-data", "redis-data"):
                podman("volume", "rm", "--force", f"{stack.project}_{volume}", check=False)


@pytest.fixture(scope="module")
def api_key(stack) -> str:
    done = stack.container("parlor-2_1").exec("flask", "--app", "run", "keys", "create",
                                            ADMIN_EMAIL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return key_from_output(done.stdout)


def test_postgres_redis_and_both_replicas_run_and_pass_their_healthchecks(stack):
    assert f"Created the first admin: {ADMIN_EMAIL}" in stack.first_migrate_log
    for service in SERVICES:
        container = stack.container(service)
        assert container.running(), f"{service} is not running\n{stack.logs()}"
        check = container.healthcheck()
        assert check.returncode == 0, f"{service}: {check.stdout}{check.stderr}"


def test_both_replicas_answer_requests(stack):
    marker = f"/healthz?probe={secrets.token_hex(4)}"
    for _ in range(30):  # a new connection each: the kernel spreads them over both listeners
        assert requests.get(stack.base_url + marker, timeout=5).status_code == 200
    time.sleep(0.5)
    for replica in REPLICAS:
        assert '"path": "/healthz"' in stack.container(replica).logs(), replica


def test_replicas_run_as_a_non_root_user(stack):
    for replica in REPLICAS:
        uids = stack.container(replica).process_uids()
        assert uids and 0 not in uids, (replica, uids)


def test_admin_logs_in_and_a_streamed_completion_goes_through_the_stack(stack, api_key):
    log_in(stack.base_url)
    assert streamed_reply(stack.base_url, api_key, "hello stack") == "Echo: hello stack"


def test_down_and_up_again_keeps_the_data_in_the_volumes(stack, api_key):
    conversation = new_conversation(stack.base_url, api_key, "keep me")
    before = conversation_texts(stack.base_url, api_key, conversation)

    stack.down()  # containers removed, named volumes kept
    assert not stack.container("parlor-1_1").running()
    migrate_again = stack.up()

    assert "Created the first admin" not in migrate_again
    assert conversation_texts(stack.base_url, api_key, conversation) == before
    log_in(stack.base_url)
