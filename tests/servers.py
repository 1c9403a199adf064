"""Servers the tests run: the app on a real threaded WSGI server, and a ``redis-server`` of a
test's own (loaded by tests/conftest.py); free ports, and a raw client that hangs up mid-read.

The outage tests stop their own Redis mid-test and start it again; the shared instance on
6379 is never touched.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, up: bool = True, timeout: float = 15.0) -> None:
    """Wait until ``port`` accepts connections (or, with ``up=False``, refuses them)."""
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


def read_until_then_hang_up(url: str, marker: bytes, method: str = "GET", body: bytes = b"",
                            headers: dict | None = None) -> bytes:
    """Send one HTTP/1.1 request on a raw socket, read until ``marker``, then close it."""
    parts = urlsplit(url)
    lines = [f"{method} {parts.path} HTTP/1.1", f"Host: {parts.netloc}",
             f"Content-Length: {len(body)}",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        received = b""
        while marker not in received:
            chunk = sock.recv(4096)
            assert chunk, f"the stream ended before {marker!r}: {received[-500:]!r}"
            received += chunk
        return received
    finally:
        sock.close()


@pytest.fixture
def live_server(app):
    """The test app served by a real threaded WSGI server; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short shutdown poll: each test that serves ends quickly.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


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
        """Start it and wait until it accepts connections."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        """Kill it, as an outage would, and wait until the port is closed."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
            wait_for_port(self.port, up=False)


@pytest.fixture
def redis_server(tmp_path):
    """A running ``redis-server`` of the test's own, which the test may stop and start."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
