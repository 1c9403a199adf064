"""What app/vendors/ relies on in httpx2, httpcore2, gevent and the SDKs beyond their public APIs.

Each test pins one item of the list in app/vendors/transport.py's docstring, and fails with a
message naming the attribute or parameter that changed, so an upgrade inside the bounds in
pyproject.toml cannot break the transport, the sender or the stall watchdog quietly.
"""

from __future__ import annotations

import inspect
import select
import socket
import time

import anthropic
import httpcore2
import httpx2
import openai
import pytest
from gevent.monkey import get_original

from app.vendors import transport
from app.vendors.transport import NetworkBackend, ShardedTransport, _Stream
from app.vendors.watchdog import StallLimits, StallWatchdog


def relied_on(what: str) -> str:
    return f"{what} changed: app/vendors/ relies on it (see app/vendors/transport.py's docstring)"


def models_request(fake, **extensions) -> httpx2.Request:
    return httpx2.Request("GET", fake.openai_base_url + "/models", extensions=extensions,
                          headers={"authorization": f"Bearer {fake.api_key}"})


def slow_stream_request(fake, timeout: dict) -> httpx2.Request:
    body = b'{"model":"slow-stream","stream":true,"messages":[{"role":"user","content":"go"}]}'
    return httpx2.Request("POST", fake.openai_base_url + "/chat/completions", content=body,
                          headers={"authorization": f"Bearer {fake.api_key}",
                                   "content-type": "application/json"},
                          extensions={"timeout": timeout})


# -- httpx2.HTTPTransport._pool ----------------------------------------------------------------


def test_httpx2_http_transport_keeps_its_connection_pool_in__pool():
    plain = httpx2.HTTPTransport()
    assert hasattr(plain, "_pool"), relied_on("httpx2.HTTPTransport()._pool (missing)")
    assert isinstance(plain._pool, httpcore2.ConnectionPool), relied_on(
        f"httpx2.HTTPTransport()._pool's type (now {type(plain._pool).__name__}, "
        "not httpcore2.ConnectionPool)")


def test_http_transport_sends_and_closes_through_the_pool_set_on__pool(fake_vendor):
    sharded = ShardedTransport(shards=1)
    pool = sharded._pools[0]._pool
    with httpx2.Client(transport=sharded) as client:
        response = client.send(models_request(fake_vendor))
        assert response.status_code == 200
        assert isinstance(response.extensions.get("network_stream"), _Stream), relied_on(
            "httpx2.HTTPTransport.handle_request using self._pool (our replacement pool was "
            "not used), or the 'network_stream' response extension")
        assert len(pool.connections) == 1
    assert pool.connections == [], relied_on("httpx2.HTTPTransport.close closing self._pool")


# -- httpcore2.ConnectionPool, NetworkBackend, NetworkStream -----------------------------------


def test_connection_pool_takes_the_parameters_the_transport_passes():
    parameters = inspect.signature(httpcore2.ConnectionPool).parameters
    for name in ("ssl_context", "max_connections", "max_keepalive_connections",
                 "keepalive_expiry", "network_backend"):
        assert name in parameters, relied_on(f"httpcore2.ConnectionPool's {name!r} parameter")


def test_our_stream_overrides_every_method_of_httpcore2s_network_stream_with_its_parameters():
    for name, method in vars(httpcore2.NetworkStream).items():
        if name.startswith("_") or not callable(method):
            continue
        assert name in vars(_Stream), relied_on(
            f"httpcore2.NetworkStream.{name} (new: _Stream must forward it)")
        theirs = list(inspect.signature(method).parameters)
        ours = list(inspect.signature(getattr(_Stream, name)).parameters)
        assert ours == theirs, relied_on(f"httpcore2.NetworkStream.{name}'s parameters {theirs}")


def test_our_backend_wraps_every_way_httpcore2s_sync_backend_connects():
    for name in dir(httpcore2.SyncBackend):
        if name.startswith("connect"):
            assert name in vars(NetworkBackend), relied_on(
                f"httpcore2.SyncBackend.{name} (new: NetworkBackend must wrap its stream)")


def test_httpcore2s_sync_stream_wraps_a_connected_socket(fake_vendor):
    from httpcore2._backends.sync import SyncStream

    sock = socket.create_connection(("127.0.0.1", fake_vendor.port), timeout=2.0)
    stream = SyncStream(sock)
    try:
        assert isinstance(stream, httpcore2.NetworkStream), relied_on(
            "httpcore2._backends.sync.SyncStream(sock)")
        assert stream.get_extra_info("socket") is sock, relied_on(
            "httpcore2._backends.sync.SyncStream's get_extra_info('socket')")
    finally:
        stream.close()


def test_a_vendor_given_by_ip_address_is_connected_without_the_resolver(fake_vendor,
                                                                        monkeypatch):
    def no_lookup(*args, **kwargs):
        raise AssertionError("an IP address was looked up")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    stream = NetworkBackend().connect_tcp("127.0.0.1", fake_vendor.port, timeout=2.0,
                                          socket_options=[])
    try:
        sock = stream.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.gettimeout() == 2.0
    finally:
        stream.close()
    with pytest.raises(AssertionError, match="looked up"):  # a host name still is
        NetworkBackend().connect_tcp("localhost", fake_vendor.port, timeout=2.0)


def test_a_refused_connection_to_an_ip_address_is_httpcores_connect_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpcore2.ConnectError):
        NetworkBackend().connect_tcp("127.0.0.1", port, timeout=2.0)


def test_sync_backend_streams_expose_their_socket(fake_vendor):
    stream = httpcore2.SyncBackend().connect_tcp("127.0.0.1", fake_vendor.port, timeout=2.0)
    try:
        assert isinstance(stream.get_extra_info("socket"), socket.socket), relied_on(
            "httpcore2.SyncBackend streams' get_extra_info('socket')")
    finally:
        stream.close()


def test_the_pool_asks_idle_connections_whether_they_are_readable(fake_vendor, monkeypatch):
    asked = []
    real = transport.socket_readable
    monkeypatch.setattr(transport, "socket_readable", lambda s: asked.append(s) or real(s))
    with httpx2.Client(transport=ShardedTransport(shards=1)) as client:
        for _ in range(2):  # the second request finds the first one's connection idle
            assert client.send(models_request(fake_vendor)).status_code == 200
    assert asked, relied_on("httpcore2 asking an idle connection's stream for 'is_readable'")


# -- the read timeout the watchdog lifts, and the socket it cuts -------------------------------


@pytest.mark.parametrize("body_read_timeout, times_out", [(0.2, True), (None, False)])
def test_the_bodys_read_timeout_is_taken_from_the_requests_dict_when_its_reads_start(
        fake_vendor, body_read_timeout, times_out):
    fake_vendor.chunk_delay = 0.5  # each piece takes longer than a 0.2 s read timeout
    timeout = {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}
    with httpx2.Client(transport=ShardedTransport(shards=1)) as client:
        response = client.send(slow_stream_request(fake_vendor, timeout), stream=True)
        try:
            assert response.request.extensions["timeout"] is timeout, relied_on(
                "httpx2 keeping a request's extensions dict as given")
            timeout["read"] = body_read_timeout  # after the headers, as StallWatchdog does
            received = b""
            try:
                for chunk in response.iter_raw():
                    received += chunk
                    if received.count(b"tick") >= 2:
                        break
                timed_out = False
            except httpx2.ReadTimeout:
                timed_out = True
        finally:
            response.close()
    assert timed_out is times_out, relied_on(
        "httpcore2 reading the body's read timeout from request.extensions['timeout'] when "
        "the body's reads start")


def test_the_network_stream_extension_gives_the_watchdog_a_socket_to_cut(fake_vendor):
    fake_vendor.chunk_delay = 3.0
    timeout = {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}
    with httpx2.Client(transport=ShardedTransport(shards=1)) as client:
        response = client.send(slow_stream_request(fake_vendor, timeout), stream=True)
        started = time.monotonic()
        watchdog = StallWatchdog(response, StallLimits(first_token=0.3, idle=5, total=10),
                                 started)
        try:
            assert timeout["read"] is None
            with pytest.raises(httpx2.TransportError):
                for chunk in response.iter_raw():
                    assert b"tick" not in chunk  # the first piece is 3 s away
        finally:
            watchdog.close()
            response.close()
    assert watchdog.fired == "first token", relied_on(
        "response.extensions['network_stream'].get_extra_info('socket')")
    assert time.monotonic() - started < 2.0


def test_gevent_gives_back_the_system_poll():
    system_poll = get_original("select", "poll")
    ours, theirs = socket.socketpair()
    with ours, theirs:
        poller = system_poll()
        poller.register(ours.fileno(), select.POLLIN)
        theirs.sendall(b"x")
        assert poller.poll(0), relied_on("gevent.monkey.get_original('select', 'poll')")


# -- what the sender copies from the SDK clients -----------------------------------------------


@pytest.mark.parametrize("build, default_http", [
    (lambda http: openai.OpenAI(api_key="k", base_url="http://127.0.0.1:9/v1",
                                http_client=http), openai.DefaultHttpx2Client),
    (lambda http: anthropic.Anthropic(api_key="k", base_url="http://127.0.0.1:9",
                                      http_client=http), anthropic.DefaultHttpxClient)])
def test_sdk_clients_expose_what_the_sender_copies(build, default_http):
    http = default_http(**transport.http_client_options())
    assert isinstance(http, httpx2.Client) and http.follow_redirects is False, relied_on(
        f"{default_http.__qualname__}(transport=, follow_redirects=)")
    client = build(http)
    try:
        assert isinstance(client.auth_headers, dict) and client.auth_headers, relied_on(
            f"{type(client).__name__}.auth_headers")
        assert "User-Agent" in client.default_headers, relied_on(
            f"{type(client).__name__}.default_headers['User-Agent']")
        assert isinstance(client.base_url, httpx2.URL), relied_on(
            f"{type(client).__name__}.base_url")
        assert "read" in client.timeout.as_dict(), relied_on(
            f"{type(client).__name__}.timeout.as_dict()['read']")
    finally:
        client.close()
