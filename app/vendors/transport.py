"""The HTTP layer under every vendor SDK client, and the protocol its three modules share.

Protocol (the one description; ``sender.py`` and ``watchdog.py`` point here)
    1. *Transport* (this module). An adapter builds its SDK client on an httpx2 client made with
       :func:`http_client_options`: redirects never followed, and a :class:`ShardedTransport`
       of several ``httpx2.HTTPTransport`` whose httpcore2 pools use :class:`NetworkBackend`.
       Its streams (:class:`_Stream`) answer httpcore's idle check with a system ``poll``, and
       read with a plain ``recv`` whenever a read has no timeout.
    2. *Sender* (``sender.py``). An ``Endpoint`` asks the SDK client once for its URL, headers
       (``default_headers``, ``auth_headers``, merged case-insensitively so each is sent once)
       and timeout, then sends each chat call with ``http.send`` on that same httpx2 client.
       Every request gets its own ``extensions["timeout"]`` dict; streams are asked for
       ``accept-encoding: identity`` so ``iter_raw`` yields bytes as they arrive.
    3. *Watchdog* (``watchdog.py``). Once a streamed response's headers are in, a
       ``StallWatchdog`` takes its socket (``response.extensions["network_stream"]``, then
       ``get_extra_info("socket")``), hands the deadlines to one monitor thread per process,
       and sets that request's ``extensions["timeout"]["read"]`` to None: httpcore reads it
       when the body's reads start, so they reach :class:`_Stream` untimed and cost no timer.
       On a deadline the monitor shuts the socket down; the blocked ``recv`` ends, httpx2
       raises a transport error, and ``stall_guard`` turns it into ``VendorTimeout``.
    The next request on a pooled connection writes first, and a write marks the socket's
    timeout as set again, so its timed reads keep their timeout.

What this relies on beyond the public APIs, each pinned by tests/vendors/test_transport_contract.py:
``httpx2.HTTPTransport._pool`` (replaced, then used by its ``handle_request`` and ``close``);
``httpcore2.ConnectionPool``'s ``ssl_context``, ``max_connections``,
``max_keepalive_connections``, ``keepalive_expiry`` and ``network_backend`` parameters;
``httpcore2.SyncBackend``'s ``connect_*`` methods (and its ``SyncStream`` around a connected
socket, for vendors given by IP address) and ``NetworkStream``'s methods, the
stream's ``get_extra_info("socket")`` and httpcore asking it ``"is_readable"``; httpx2
passing a request's ``extensions`` dict to httpcore2 as is, the ``"network_stream"``
response extension, and the body's read timeout taken when its reads start; the SDKs'
``auth_headers``; ``gevent.monkey.get_original``.

Why the idle check is ours: httpcore's pool walks every one of its connections each time a
request starts or a response closes, and asks each idle one whether its socket is readable
(the server closed it, or sent something unasked). Under gevent's monkey-patching that
question goes through gevent's cooperative ``poll``, which builds an event-loop watcher per
socket: ~24 µs a connection against ~1 µs for the system call, and with a thousand streams in
flight the pool walk was the largest single cost of a burst. Asking the operating system
directly with a zero timeout never blocks, so it needs no cooperation from the event loop.
"""

from __future__ import annotations

import ipaddress
import itertools
import select
import socket

import httpcore2
import httpx2
from httpcore2._backends.sync import SyncStream

try:  # the system's poll, also after gevent patched the select module
    from gevent.monkey import get_original

    _system_poll = get_original("select", "poll")
except ImportError:  # pragma: no cover - gevent is a dependency; kept for plain threads
    _system_poll = select.poll

# Connections one SDK client may hold: a gevent worker relays up to 1,000 streams at once.
MAX_CONNECTIONS = 1000
# Idle ones it keeps for the next requests; a burst's others close as their streams end.
KEEPALIVE_CONNECTIONS = 128
POOL_SHARDS = 16
KEEPALIVE_SECONDS = 30.0


def socket_readable(stream: httpcore2.NetworkStream) -> bool:
    """Whether reading the stream's socket would return at once (data, or the end)."""
    sock = stream.get_extra_info("socket")
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True  # gone: as if the next read returned the end
    poller = _system_poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore2.NetworkStream):
    """A connection's stream, answering ``is_readable`` with :func:`socket_readable`."""

    def __init__(self, inner: httpcore2.NetworkStream):
        self._inner = inner
        self._socket = inner.get_extra_info("socket")
        self._blocking = False  # the socket's timeout is None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if timeout is not None or self._socket is None:
            self._blocking = False
            return self._inner.read(max_bytes, timeout)
        # A streamed body under the stall watchdog: a plain read (httpcore's wraps each in an
        # exception map and sets the socket's timeout again; a relayed chunk pays for both).
        try:
            if not self._blocking:
                self._socket.settimeout(None)
                self._blocking = True
            return self._socket.recv(max_bytes)
        except OSError as exc:
            raise httpcore2.ReadError(exc) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._blocking = False  # the write sets the socket's timeout
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> _Stream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        if info == "is_readable":
            return socket_readable(self._inner)
        return self._inner.get_extra_info(info)


def _literal_family(host: str) -> int | None:
    """The address family of an IP address written out (``127.0.0.1``, ``::1``); None for a
    host name."""
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        return None
    return socket.AF_INET6 if version == 6 else socket.AF_INET


class NetworkBackend(httpcore2.SyncBackend):
    """httpcore's blocking-socket backend (cooperative under gevent) with the cheap idle check.

    A vendor given by its IP address (a model server on this host or the local network) is
    connected to directly: httpcore's ``socket.create_connection`` would first ask gevent's
    resolver, whose thread pool answers each new connection of a burst one by one."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options=None) -> _Stream:
        family = _literal_family(host)
        if family is None or local_address is not None:
            return _Stream(super().connect_tcp(host, port, timeout, local_address,
                                               socket_options))
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect((host, port))
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as httpcore does
        except BaseException as exc:
            sock.close()
            if isinstance(exc, socket.timeout):
                raise httpcore2.ConnectTimeout(str(exc)) from exc
            if isinstance(exc, OSError):
                raise httpcore2.ConnectError(str(exc)) from exc
            raise
        return _Stream(SyncStream(sock))

    def connect_unix_socket(self, *args, **kwargs) -> _Stream:
        return _Stream(super().connect_unix_socket(*args, **kwargs))


class ShardedTransport(httpx2.BaseTransport):
    """Requests spread round-robin over several connection pools.

    Each pool's walk over its connections (see the module's note) grows with the pool: with a
    thousand streams on one pool that is quadratic. Sixteen pools of a sixteenth the size cut
    that walk sixteenfold.
    """

    def __init__(
        self,
        shards: int = POOL_SHARDS,
        max_connections: int = MAX_CONNECTIONS,
        keepalive: int = KEEPALIVE_CONNECTIONS,
        keepalive_expiry: float = KEEPALIVE_SECONDS,
    ):
        per_pool = -(-max_connections // shards)
        tls = httpx2.create_ssl_context()  # one for all: each costs ~30 ms to build
        self._pools = []
        for _ in range(shards):
            transport = httpx2.HTTPTransport(verify=tls)
            # httpx2 builds its httpcore pool without a way to name the network backend:
            # the same pool, built again with ours.
            transport._pool = httpcore2.ConnectionPool(
                ssl_context=tls,
                max_connections=2 * per_pool,
                max_keepalive_connections=-(-keepalive // shards),
                keepalive_expiry=keepalive_expiry,
                network_backend=NetworkBackend(),
            )
            self._pools.append(transport)
        self._turn = itertools.count()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self._pools[next(self._turn) % len(self._pools)].handle_request(request)

    def close(self) -> None:
        for pool in self._pools:
            pool.close()


def http_client_options() -> dict:
    """Options for a new SDK client's HTTP client.

    Redirects are never followed (a base URL checked when saved could otherwise bounce a
    call to a cloud-metadata address), and idle connections are kept long enough that bursts
    do not pay a new handshake.
    """
    return {"follow_redirects": False, "transport": ShardedTransport()}
