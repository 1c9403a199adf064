"""The strategy interface every vendor adapter implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import httpx2

from app.vendors.types import ChatRequest, Credential, Delta, Result

# For every SDK client: redirects are never followed (a base URL checked when saved could
# otherwise bounce a call to a cloud-metadata address), and idle connections are kept long
# enough that bursts do not pay a new handshake; a gevent worker holds many streams at once.
HTTP_CLIENT_OPTIONS = {
    "follow_redirects": False,
    "limits": httpx2.Limits(max_connections=1000, max_keepalive_connections=200,
                            keepalive_expiry=30.0),
}


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
