"""An OpenAI-compatible upstream that sends three chunks and then goes silent (case 18c).

The fake vendor's ``slow-stream`` delays every word alike; this one stalls after a good start,
so the idle timeout (not the first-token one) is what must end the reply. It records when
Parlor hangs up on it. Loaded by tests/conftest.py: ``stalling`` is one, ``stall_app`` the
test app with the ``openai`` vendor pointed at it and short timeouts.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

WORDS = ("one ", "two ", "three ")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):  # the model list Parlor discovers
        self._json({"object": "list", "data": [
            {"id": "stall", "object": "model", "created": 0, "owned_by": "stall"}]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self._event({"role": "assistant", "content": ""})
        for word in WORDS:
            self._event({"content": word})
        self.connection.settimeout(30)
        try:
            while self.connection.recv(1024):  # silent until Parlor closes the socket
                pass
        except OSError:
            pass
        self.server.hung_up.set()
        self.close_connection = True

    def _event(self, delta: dict) -> None:
        chunk = {"id": "chatcmpl-stall", "object": "chat.completion.chunk", "created": 0,
                 "model": "stall", "choices": [{"index": 0, "delta": delta,
                                                "finish_reason": None}]}
        frame = f"data: {json.dumps(chunk)}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        self.wfile.flush()

    def _json(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class StallingVendor:
    """The stalling upstream on a free port (a context manager: served while inside)."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.hung_up = threading.Event()
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def hung_up(self, timeout: float = 5.0) -> bool:
        """Whether Parlor closed its connection (waits up to ``timeout``)."""
        return self.server.hung_up.wait(timeout)

    def __enter__(self) -> StallingVendor:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stalling():
    """A running :class:`StallingVendor`."""
    with StallingVendor() as vendor:
        yield vendor


@pytest.fixture
def stall_app(make_app, stalling):
    """The app with ``openai/stall`` served by ``stalling``: the first token may take 5 s, a
    pause after it 0.3 s."""
    return make_app(OPENAI_BASE_URL=stalling.base_url, OPENAI_API_KEY="sk-stall",
                    PARLOR_VENDOR_FIRST_TOKEN_TIMEOUT=5, PARLOR_VENDOR_IDLE_TIMEOUT=0.3)
