"""`make run` from the README: serves on HOST/PORT, creates the first admin once, runs again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(env) -> subprocess.Popen:
    return subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _wait_ready(process, base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("make run did not serve /healthz in time")


def _stop(process) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    return output


def test_make_run_serves_on_host_and_port_and_runs_again(tmp_path):
    port = _free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port),
           "PARLOR_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("SECRET_KEY")
    env.pop("PARLOR_ENCRYPTION_KEYS")
    base = f"http://127.0.0.1:{port}"

    first = _start(env)
    try:
        _wait_ready(first, base)
        with urllib.request.urlopen(base + "/login", timeout=5) as response:
            assert response.status == 200 and b"Log in" in response.read()
    finally:
        output = _stop(first)
    assert "Created the first admin: admin@example.com" in output
    assert "Its password" in output
    assert (tmp_path / "instance" / "parlor.db").exists()

    second = _start(env)
    try:
        _wait_ready(second, base)
    finally:
        output = _stop(second)
    assert "Created the first admin" not in output
