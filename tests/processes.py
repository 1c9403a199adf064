"""Parlor as ``make serve`` runs it: real gunicorn processes (the repo's gunicorn.conf.py,
gevent worker), and a browser-like ``requests`` session against one (loaded by tests/conftest.py).

A :class:`ParlorProcess` gets the test's environment, so it shares the test app's database
(``own_postgres_url`` in tests/postgres.py is a migrated one for the module).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import csrf_token
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
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
        """Start gunicorn (its output goes to the log file); does not wait."""
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", str(self.workers),
             "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def wait_ready(self) -> ParlorProcess:
        """Wait until ``/healthz`` answers; raises with the log if gunicorn exits first."""
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
        """SIGINT (quick shutdown), then a kill if it does not exit in time."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # quick shutdown: no graceful wait
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def log(self) -> str:
        """The end of the process's log, for failure messages."""
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
