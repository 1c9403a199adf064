"""The vendor clients' HTTP transport: the idle-connection check it answers itself."""

from __future__ import annotations

import socket
import threading
import time

import httpcore2
import httpx2
import pytest
from httpcore2._backends.sync import SyncStream

from app.vendors.transport import ShardedTransport, _Stream, socket_readable


class _SocketStream:
    """The one thing socket_readable asks of a network stream."""

    def __init__(self, sock):
        self.sock = sock

    def get_extra_info(self, info):
        return self.sock if info == "socket" else None


def test_socket_readable_is_false_while_idle_and_true_once_data_or_the_end_arrives():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert socket_readable(_SocketStream(ours)) is False
        theirs.sendall(b"x")
        assert socket_readable(_SocketStream(ours)) is True
        ours.recv(1)
        assert socket_readable(_SocketStream(ours)) is False
        theirs.close()
        assert socket_readable(_SocketStream(ours)) is True


def test_a_read_without_timeout_leaves_the_next_timed_read_its_timeout():
    """Body reads under the stall watchdog go untimed; a pooled connection's next request
    must still time out waiting for its headers."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        stream = _Stream(SyncStream(ours))
        theirs.sendall(b"chunk")
        assert stream.read(64, timeout=None) == b"chunk"
        assert ours.gettimeout() is None
        started = time.monotonic()
        with pytest.raises(httpcore2.ReadTimeout):
            stream.read(64, timeout=0.1)
        assert time.monotonic() - started < 1.0
        stream.write(b"next request", timeout=1.0)
        theirs.sendall(b"more")
        assert stream.read(64, timeout=None) == b"more" and ours.gettimeout() is None
        theirs.close()  # with "next request" unread: the connection is reset
        with pytest.raises(httpcore2.ReadError):
            stream.read(64, timeout=None)


def test_socket_readable_counts_a_closed_socket_as_readable():
    sock = socket.socket()
    sock.close()
    assert socket_readable(_SocketStream(sock)) is True
    assert socket_readable(_SocketStream(None)) is True


@pytest.fixture
def closes_after_each_reply():
    """An HTTP/1.1 server that answers keep-alive, then hangs up a moment later."""
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[int] = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                connections.append(conn.fileno())
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             b"Connection: keep-alive\r\n\r\nok")
                time.sleep(0.05)  # then close, while the client holds it idle in its pool

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", connections
    listener.close()


def test_a_pooled_connection_the_server_closed_while_idle_is_not_reused(
        closes_after_each_reply):
    url, connections = closes_after_each_reply
    with httpx2.Client(transport=ShardedTransport(shards=1)) as client:
        assert client.get(url).text == "ok"
        time.sleep(0.2)  # the server has hung up the idle connection by now
        assert client.get(url).text == "ok"  # on a new connection, not a dead one
    assert len(connections) == 2


@pytest.fixture
def keep_alive_server():
    """An HTTP/1.1 server that keeps connections open; it counts the connections it accepted."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    accepted = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            accepted.append(self.client_address)
            super().setup()

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", accepted
    server.shutdown()
    server.server_close()


def test_a_burst_leaves_at_most_the_keepalive_count_of_idle_connections(keep_alive_server):
    url, accepted = keep_alive_server
    with httpx2.Client(transport=ShardedTransport(shards=1, max_connections=8,
                                                  keepalive=2)) as client:
        def burst():
            responses = [client.send(client.build_request("GET", url), stream=True)
                         for _ in range(4)]  # four at once: four connections
            for response in responses:
                response.read()
                response.close()

        burst()
        assert len(accepted) == 4
        burst()  # two of them were kept; two new ones are opened
        assert len(accepted) == 6
