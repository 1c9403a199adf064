"""Hardening tests: Parlor wired to the fake vendor, plus Redis and PostgreSQL the tests own.

The outage tests start their own ``redis-server`` and PostgreSQL cluster on free ports, stop
them mid-test and start them again; the shared instances (6379, 5432) are never touched.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from glob import glob
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import UsageRecord
from app.repositories import accounts as accounts_repo
from app.services import accounts, keys
from tests.conftest import PASSWORD


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, up: bool = True, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not come {'up' if up else 'down'}")


@pytest.fixture
def vendor_env(fake_vendor) -> dict:
    return {"OPENAI_BASE_URL": fake_vendor.openai_base_url, "OPENAI_API_KEY": fake_vendor.api_key,
            "ANTHROPIC_BASE_URL": fake_vendor.anthropic_base_url,
            "ANTHROPIC_API_KEY": fake_vendor.api_key}


@pytest.fixture
def app(make_app, vendor_env):
    return make_app(**vendor_env)


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def live_server(app):
    server, thread = serve(app)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def new_key(app, email="member@example.com", role="member") -> str:
    """A user (made once per e-mail) and a fresh API key of theirs."""
    with app.app_context():
        user = accounts_repo.user_by_email(email) or accounts.create_user(
            email, PASSWORD, role=role)
        _, secret = keys.create_key(user, name="test")
        return secret


@pytest.fixture
def make_key(app):
    return lambda email="member@example.com", role="member": new_key(app, email, role)


@pytest.fixture
def usage_rows(app):
    def read() -> list[UsageRecord]:
        with app.app_context():
            rows = list(db.session.scalars(select(UsageRecord).order_by(UsageRecord.id)))
            db.session.expunge_all()
            return rows

    return read


class RedisServer:
    """A ``redis-server`` of the test's own, on a free port, without persistence."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
            wait_for_port(self.port, up=False)


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PostgresServer:
    """A PostgreSQL cluster of the test's own (initdb into a temp dir), run as ``postgres``."""

    def __init__(self):
        self.bindir = sorted(glob("/usr/lib/postgresql/*/bin"))[-1]
        self.port = free_port()
        self.datadir = Path(tempfile.mkdtemp(prefix="parlor-pg-")) / "data"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [f"{self.bindir}/{args[0]}", *args[1:]]
        if self._as_postgres:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)

    def init(self) -> None:
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.datadir.parent, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.datadir), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-w", "-l", str(self.datadir / "log"),
                  "-o", f"-p {self.port} -h 127.0.0.1 -k {self.datadir}", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-w", "-m", "immediate", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


@pytest.fixture
def postgres_server():
    if not glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("PostgreSQL server binaries are not installed")
    server = PostgresServer()
    server.init()
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped by the test
        server.remove()
