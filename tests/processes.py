"""Hardening, part 2: real gunicorn processes (the repo's gunicorn.conf.py, gevent worker).

Reuses the first pass's fixtures (the app wired to the fake vendor, a redis-server of the
test's own). A :class:`ParlorProcess` serves the app as ``make serve`` does, with the test's
environment, so it shares the test app's database; ``own_postgres_url`` is a throw-away
database on the shared PostgreSQL, a copy of one migrated with ``flask db upgrade`` like a
deployment.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import POSTGRES_ADMIN_URL, TEST_FERNET_KEY, csrf_token
from tests.hardening.conftest import (  # noqa: F401 - fixtures reused here
    app,
    free_port,
    live_server,
    make_key,
    new_key,
    redis_server,
    usage_rows,
    vendor_env,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


class ParlorProcess:
    """``gunicorn -c gunicorn.conf.py`` (as ``make serve``) on a free port, with ``env``."""

    workers = 1

    def __init__(self, log_dir: Path, name: str, env: dict[str, str]):
        self.port = free_port()
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> ParlorProcess:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", str(self.workers),
             "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def wait_ready(self) -> ParlorProcess:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code < 500:
                    return self
            except requests.RequestException:  # not listening yet, or the worker still booting
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn did not answer: {self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # quick shutdown: no graceful wait
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@pytest.fixture
def parlor_process(tmp_path):
    """Start a gunicorn process with the test's environment plus ``env``; stopped at the end."""
    started: list[ParlorProcess] = []

    def start(**env) -> ParlorProcess:
        process = ParlorProcess(tmp_path, "parlor",
                                {**os.environ, **{k: str(v) for k, v in env.items()}})
        started.append(process)
        return process.spawn().wait_ready()

    yield start
    for process in started:
        process.stop()


def _admin_connection():
    import psycopg

    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """A database on the shared PostgreSQL migrated once with ``flask db upgrade``; tests get
    copies of it (``CREATE DATABASE ... TEMPLATE``)."""
    admin = _admin_connection()
    name = "parlor_h2_template_" + secrets.token_hex(4)
    admin.execute(f'CREATE DATABASE "{name}"')
    instance = tmp_path_factory.mktemp("instance")
    env = {**os.environ, "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
           "PARLOR_INSTANCE_PATH": str(instance), "SECRET_KEY": "template",
           "PARLOR_ENCRYPTION_KEYS": TEST_FERNET_KEY}
    try:
        subprocess.run([str(VENV_BIN / "flask"), "--app", "run", "db", "upgrade"], cwd=ROOT,
                       env=env, check=True, capture_output=True, timeout=120)
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def own_postgres_url(migrated_template):
    """A fresh, migrated database on the shared PostgreSQL server for the module's tests."""
    admin = _admin_connection()
    name = "parlor_h2_" + secrets.token_hex(4)
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def web_session(base_url: str, email: str, password: str) -> requests.Session:
    """A browser-like session logged in through the login form (CSRF token included)."""
    session = requests.Session()
    session.headers["Referer"] = base_url + "/login"
    token = csrf_token(session.get(base_url + "/login", timeout=10).text)
    response = session.post(base_url + "/login", allow_redirects=False, timeout=10,
                            data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 302, response.text[:500]
    return session


def start_chat(session: requests.Session, base_url: str, model: str, message: str = "go") -> str:
    """A new conversation through the new-chat form; returns its URL."""
    token = csrf_token(session.get(base_url + "/", timeout=10).text)
    response = session.post(base_url + "/c", allow_redirects=False, timeout=10,
                            data={"csrf_token": token, "model": model, "message": message,
                                  "system_prompt": ""})
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    return location if location.startswith("http") else base_url + location


def eventually(read, timeout: float = 10.0):
    """``read()`` once it returns something truthy (the server writes after the client left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := read():
            return value
        time.sleep(0.05)
    return read()
