"""The strategy interface every vendor adapter implements."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterator

import httpx2

from app.vendors.types import ChatRequest, Credential, Delta, Result

# Connections one SDK client may hold: a gevent worker relays up to 1,000 streams at once.
MAX_CONNECTIONS = 1000
POOL_SHARDS = 16


class ShardedTransport(httpx2.BaseTransport):
    """Requests spread round-robin over several connection pools.

    httpcore's pool walks every one of its connections (and polls the idle ones' sockets)
    each time a request starts or a response closes: with a thousand streams in flight on
    one pool that is quadratic, and it was the largest single cost of a burst of streams.
    Sixteen pools of a sixteenth the size cut that walk sixteenfold.
    """

    def __init__(self, shards: int = POOL_SHARDS, max_connections: int = MAX_CONNECTIONS,
                 keepalive_expiry: float = 30.0):
        per_pool = httpx2.Limits(max_connections=2 * -(-max_connections // shards),
                                 max_keepalive_connections=-(-max_connections // shards),
                                 keepalive_expiry=keepalive_expiry)
        tls = httpx2.create_ssl_context()  # one for all: each costs ~30 ms to build
        self._pools = [httpx2.HTTPTransport(verify=tls, limits=per_pool) for _ in range(shards)]
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


class VendorHandler(ABC):
    """One vendor account: lists models, completes and streams normalised requests.

    A handler holds one SDK client for its credential and is reused across requests.
    """

    def __init__(self, credential: Credential):
        self.credential = credential

    @abstractmethod
    def models(self) -> list[str]:
        """Upstream model ids the vendor offers to this credential."""

    @abstractmethod
    def complete(self, request: ChatRequest) -> Result:
        """Run one request to completion."""

    @abstractmethod
    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        """Yield deltas as the vendor sends them, ending with finish reason and usage.

        Closing the iterator closes the upstream request.
        """

    def close(self) -> None:  # noqa: B027 - optional hook; handlers without a client keep it
        """Release the client's connections."""
