"""PostgreSQL for the tests: throw-away databases on the shared server, and a cluster of a
test's own (loaded by tests/conftest.py; every PostgreSQL fixture lives here).

The shared server (127.0.0.1:5432) is never stopped; tests that stop PostgreSQL mid-test use
``postgres_server``, a cluster of their own on a free port. With ``CI`` set, an unreachable
server fails the run instead of skipping its tests.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path

import pytest

from tests.conftest import TEST_FERNET_KEY
from tests.servers import free_port

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def admin_connection():
    """An autocommit connection to the shared server; skips (fails in CI) when it is down."""
    import psycopg

    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")


@contextmanager
def throwaway_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database on the shared server (a copy of ``template`` if given), dropped after;
    yields its name."""
    admin = admin_connection()
    name = prefix + secrets.token_hex(4)
    admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def database_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL database for the session, dropped at the end."""
    with throwaway_database("parlor_test_") as name:
        yield database_url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request, tmp_path):
    """Run a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/parlor.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """A database migrated once with ``flask db upgrade`` (as a deployment is); tests get
    copies of it (``CREATE DATABASE ... TEMPLATE``)."""
    with throwaway_database("parlor_template_") as name:
        env = {**os.environ, "DATABASE_URL": database_url(name),
               "PARLOR_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
               "SECRET_KEY": "template", "PARLOR_ENCRYPTION_KEYS": TEST_FERNET_KEY}
        subprocess.run([str(VENV_BIN / "flask"), "--app", "run", "db", "upgrade"], cwd=ROOT,
                       env=env, check=True, capture_output=True, timeout=120)
        yield name


@pytest.fixture(scope="module")
def own_postgres_url(migrated_template):
    """A fresh, migrated database on the shared PostgreSQL server for the module's tests."""
    with throwaway_database("parlor_migrated_", template=migrated_template) as name:
        yield database_url(name)


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
        """Create the cluster (trust authentication, superuser ``postgres``)."""
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.datadir.parent, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.datadir), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.datadir), "-w", "-l", str(self.datadir / "log"),
                  "-o", f"-p {self.port} -h 127.0.0.1 -k {self.datadir}", "start")

    def stop(self) -> None:
        """Stop at once (``-m immediate``), as a crash would."""
        self._run("pg_ctl", "-D", str(self.datadir), "-w", "-m", "immediate", "stop")

    def remove(self) -> None:
        """Delete the cluster's files."""
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


@pytest.fixture
def postgres_server():
    """A running PostgreSQL cluster of the test's own, which the test may stop and start."""
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
