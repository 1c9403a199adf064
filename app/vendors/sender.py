"""Chat calls sent on an SDK client's own connection pool, with the request prepared once.

The SDK client's ``post()`` works a call's URL, headers and timeouts out again on every call
(option models copied and checked, headers merged, the URL rebuilt, the auth hook run):
~0.6 ms a call on this machine, a third of the gateway's added latency. An :class:`Endpoint`
asks the client once; the SDK still owns every other call (model listing) and its
configuration. A body holding a large image or document is written as it is sent
(``streamed_body.py``). How it fits with the transport and the stall watchdog: the protocol in
``app/vendors/transport.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping

import httpx2

from app.vendors.errors import (
    VendorTimeout,
    VendorUnavailable,
    error_for_status,
    parse_retry_after,
    scrub,
)
from app.vendors.streamed_body import StreamedBody, encode
from app.vendors.tracing import trace_headers

# Set per call (or by the transport), never copied from the template.
PER_CALL_HEADERS = {"host", "content-length", "x-stainless-retry-count",
                    "x-stainless-read-timeout", "x-stainless-timeout"}


class Endpoint:
    """POSTs to one path of an SDK client (``openai.OpenAI``, ``anthropic.Anthropic``), as the
    client would send them; non-2xx answers and transport failures raise Parlor's errors."""

    def __init__(self, client, http: httpx2.Client, path: str, *, vendor: str,
                 secret: str | None, auth: Callable[[], Mapping[str, str]] | None = None):
        self._headers = merge_headers(http.headers.items(), client.default_headers.items(),
                                      client.auth_headers.items())
        # Streams are asked for uncompressed, so their bytes can be read as they arrive.
        self._stream_headers = [(name, "identity" if name.lower() == "accept-encoding" else value)
                                for name, value in self._headers]
        self._url = httpx2.URL(str(client.base_url).rstrip("/") + path)
        self._timeout = client.timeout
        self._http = http
        self._vendor, self._secret = vendor, secret
        # Headers worked out per call: a bearer token that expires (Azure's Entra tokens).
        self._auth = auth

    def post(self, body: dict, *, stream: bool = False, timeout: httpx2.Timeout | None = None,
             headers: Mapping[str, str] | None = None) -> httpx2.Response:
        """The upstream's 2xx response (unread when ``stream``; close it when done).

        ``headers`` are forwarded on purpose (``anthropic-beta``): each replaces the client's
        header of the same name, whatever its case. The current span's ``traceparent`` is
        added when the app traces (``tracing.py``)."""
        sent = self._stream_headers if stream else self._headers
        if self._auth is not None:
            headers = {**self._auth(), **(headers or {})}
        headers = trace_headers(headers)  # the call's traceparent, when the app traces
        if headers:
            sent = merge_headers(sent, headers.items())
        content = encode(body)
        if isinstance(content, StreamedBody):  # its length is known: never sent chunked
            sent = [*sent, ("Content-Length", str(content.length))]
        request = httpx2.Request(
            "POST", self._url, headers=sent, content=content,
            extensions={"timeout": (timeout or self._timeout).as_dict()})
        name = self._vendor
        try:
            response = self._http.send(request, stream=stream)
        except httpx2.TimeoutException:
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except httpx2.TransportError:
            raise VendorUnavailable(f"could not reach {name}", vendor=name) from None
        if response.status_code >= 400:
            raise self._status_error(response)
        return response

    def _status_error(self, response: httpx2.Response):
        try:
            content = response.read()
        except httpx2.TransportError:
            content = b""
        finally:
            response.close()
        message = scrub(error_message(response.status_code, content), self._secret)
        return error_for_status(response.status_code, message, vendor=self._vendor,
                                retry_after=parse_retry_after(response.headers))


def merge_headers(*layers: Iterable[tuple[str, object]]) -> list[tuple[str, str]]:
    """Each header once: a later layer's value replaces an earlier one of the same name in any
    case (the HTTP client's ``user-agent`` gives way to the SDK's ``User-Agent``); per-call
    headers and values that are not strings (the SDK's "omit" markers) are left out."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer:
            key = name.lower()
            if key in PER_CALL_HEADERS:
                continue
            if isinstance(value, str):
                merged[key] = (name, value)
            else:
                merged.pop(key, None)
    return list(merged.values())


def error_message(status: int, content: bytes) -> str:
    """The message of an error body in either vendor's shape (``{"error": {"message"}}``,
    or a bare ``{"message"}``), else a plain one naming the status."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return f"upstream answered {status}"


def sse_data(response: httpx2.Response) -> Iterator[bytes]:
    """The ``data:`` fields of a streamed response's server-sent events, as bytes, one per line
    that has one, read as the bytes arrive (httpx's text and line decoders, a generator layer
    each, cost a streamed chunk more than parsing its JSON)."""
    return data_fields(_body(response))


def sse_lines(response: httpx2.Response) -> Iterator[str]:
    """A streamed response's lines as text (events, fields, blank separators), read as the bytes
    arrive; a line is whole bytes up to ``\n``, so no character is ever cut in two."""
    for line in _lines(_body(response)):
        yield line.rstrip(b"\r").decode("utf-8", "replace")


def data_fields(body: Iterable[bytes]) -> Iterator[bytes]:
    """The ``data:`` fields in an event stream's bytes, however they are split."""
    for line in _lines(body):
        if line.startswith(b"data:"):
            yield line[5:].strip()


def _body(response: httpx2.Response) -> Iterable[bytes]:
    """The body as it arrives: raw when uncompressed (streams are asked for so)."""
    if response.headers.get("content-encoding", "identity") == "identity":
        return response.iter_raw()
    return response.iter_bytes()


def _lines(body: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes' lines without their ``\n``, however the parts are split; the last one too."""
    rest = b""
    for part in body:
        lines = (rest + part).split(b"\n") if rest else part.split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest
