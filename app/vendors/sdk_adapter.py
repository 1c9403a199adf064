"""What the adapters built on an official SDK share, written once: one client per credential
(SDK retries off), its endpoints, the translation of the SDK's and httpx2's errors into
Parlor's, the guard against malformed bodies and the watched upstream of a stream.

An adapter names its SDK module and the SDK's client classes; the rest is its own wire format.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from types import ModuleType
from typing import ClassVar

import httpx2

from app.vendors.base import VendorHandler
from app.vendors.errors import (
    VendorTimeout,
    VendorUnavailable,
    error_for_status,
    parse_retry_after,
    scrub,
)
from app.vendors.sender import Endpoint, error_message
from app.vendors.transport import http_client_options
from app.vendors.types import Credential, Delta
from app.vendors.watchdog import StallLimits, StallWatchdog, stall_guard

# What a reply or an event of the wrong shape raises while it is read.
MALFORMED = (AttributeError, KeyError, IndexError, TypeError, ValueError, OverflowError)

# Reads a stream's upstream response (its body still unread) as deltas; ``fed()`` the watchdog
# after each event, so the wait for the next one starts then.
StreamReader = Callable[[httpx2.Response, StallWatchdog], Iterator[Delta]]


class SDKHandler(VendorHandler):
    """A vendor handler on an official SDK client (``sdk``: the ``openai`` or ``anthropic``
    module; ``client_class`` and ``http_client_class`` name its client and its httpx2 client)."""

    sdk: ClassVar[ModuleType]
    client_class: ClassVar[str]
    http_client_class: ClassVar[str]

    def __init__(self, credential: Credential):
        super().__init__(credential)
        self.http = getattr(self.sdk, self.http_client_class)(**http_client_options())
        self.client = getattr(self.sdk, self.client_class)(
            max_retries=0,  # the vendor manager retries, once, with its own budget
            timeout=self.sdk.Timeout(credential.timeout, connect=credential.connect_timeout),
            http_client=self.http,
            **self.client_options(credential),
        )

    def client_options(self, credential: Credential) -> dict:
        """Where and how the SDK client reaches the vendor (an adapter may say otherwise)."""
        return {"api_key": credential.api_key or "not-needed", "base_url": credential.base_url}

    def endpoint(self, path: str) -> Endpoint:
        """Chat-type calls to ``path`` of the vendor, sent as the client would send them."""
        return Endpoint(self.client, self.http, path, vendor=self.credential.name,
                        secret=self.credential.api_key, auth=self.call_auth())

    def call_auth(self) -> Callable[[], dict[str, str]] | None:
        """Auth headers to work out on every call (a token that expires), or None: the
        client's own, fixed, are sent."""
        return None

    def close(self) -> None:
        self.client.close()

    @contextmanager
    def translated_errors(self):
        """The SDK's and httpx2's exceptions raised inside, as Parlor's vendor errors (their
        messages scrubbed of the credential's key)."""
        name, secret, sdk = self.credential.name, self.credential.api_key, self.sdk
        try:
            yield
        except sdk.APIStatusError as exc:  # the model listing: chat calls raise their own
            message = scrub(error_message(exc.status_code, exc.response.content), secret)
            raise error_for_status(
                exc.status_code, message,
                retry_after=parse_retry_after(exc.response.headers), vendor=name,
            ) from None
        except sdk.APITimeoutError:
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except sdk.APIConnectionError:
            raise VendorUnavailable(f"could not reach {name}", vendor=name) from None
        except sdk.APIError as exc:  # an error event inside a stream the SDK read
            raise VendorUnavailable(scrub(exc.message, secret), vendor=name) from None
        except httpx2.TimeoutException:  # mid-stream reads raise httpx2's own errors
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except (httpx2.TransportError, json.JSONDecodeError):
            raise VendorUnavailable(f"{name} broke off the reply", vendor=name) from None

    @contextmanager
    def well_formed(self, what: str = "reply"):
        """A body of the wrong shape, read inside, becomes VendorUnavailable."""
        try:
            yield
        except MALFORMED:
            raise VendorUnavailable(f"{self.credential.name} sent a malformed {what}",
                                    vendor=self.credential.name) from None

    def watched_stream(self, endpoint: Endpoint, params: dict, read: StreamReader,
                       headers: dict[str, str] | None = None) -> Iterator[Delta]:
        """The deltas ``read`` makes of a streamed call: until the response headers the
        first-token timeout holds, after them the stall watchdog keeps time; errors come
        translated, and the upstream is closed however the stream ends."""
        limits = StallLimits.of(self.credential)
        timeout = self.sdk.Timeout(min(limits.first_token, limits.total),
                                   connect=self.credential.connect_timeout)
        started = time.monotonic()
        with stall_guard(self.credential.name) as guarded, self.translated_errors():
            with closing(endpoint.post(params, stream=True, timeout=timeout,
                                       headers=headers)) as upstream:
                guarded.watchdog = StallWatchdog(upstream, limits, started)
                yield from read(upstream, guarded.watchdog)
