"""Request bodies whose large base64 strings are encoded a piece at a time as they are written.

A 10 MB image sent as one JSON body would be held several times over: its base64 text, the
data URL made of it, the JSON text, its bytes. Instead an adapter puts a
:class:`Base64String` where the string goes (:func:`base64_value` decides: small sources
stay plain strings, so a small request is encoded exactly as before), and :func:`encode`
writes the JSON with a placeholder for each, split around them: the body is then the JSON's
pieces with each string's base64 produced in chunks between them, and its length is known
before a byte is sent (base64 of n bytes is 4*ceil(n/3) characters), so the request goes with
a normal ``Content-Length``, never chunked. A worker holds the source (the stored bytes, or
the base64 text a client sent) and one chunk.
"""

from __future__ import annotations

import binascii
import json
import secrets
from collections.abc import Iterator

from app.vendors.types import Part

# Sources this large (bytes, or characters of base64 text) or larger are streamed.
STREAM_FROM = 256 * 1024
RAW_CHUNK = 3 * 64 * 1024  # a multiple of 3: no padding inside the string
TEXT_CHUNK = 256 * 1024
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


class Base64String:
    """A JSON string value: ``prefix`` (a data URL's ``data:image/png;base64,``) followed by
    the base64 of ``source`` (raw bytes), or by ``source`` itself when it is base64 text
    already (what a client sent, checked to need no escaping)."""

    __slots__ = ("prefix", "source")

    def __init__(self, source: bytes | str, prefix: str = ""):
        self.source = source
        # A JSON string's content: base64 never needs escaping, a media type might.
        self.prefix = json.dumps(prefix)[1:-1].encode("ascii")

    def __len__(self) -> int:
        """The bytes it takes in the body, its quotes included."""
        if isinstance(self.source, str):
            size = len(self.source)
        else:
            size = 4 * ((len(self.source) + 2) // 3)
        return 2 + len(self.prefix) + size

    def chunks(self) -> Iterator[bytes]:
        yield b'"' + self.prefix
        source = self.source
        if isinstance(source, str):
            for start in range(0, len(source), TEXT_CHUNK):
                yield source[start:start + TEXT_CHUNK].encode("ascii")
        else:
            view = memoryview(source)
            for start in range(0, len(view), RAW_CHUNK):
                yield binascii.b2a_base64(view[start:start + RAW_CHUNK], newline=False)
        yield b'"'


def base64_value(part: Part, prefix: str = "") -> str | Base64String:
    """What an adapter puts in its JSON for ``part``'s source, after ``prefix``: a plain
    string when small, else a :class:`Base64String` that :func:`encode` streams."""
    if part.blob is not None:
        if len(part.blob) >= STREAM_FROM:
            return Base64String(part.blob.content, prefix)
        return prefix + part.base64()
    return base64_text(part.data or "", prefix)


def base64_text(data: str, prefix: str = "") -> str | Base64String:
    """Base64 text a client sent, after ``prefix``: streamed when large and plain base64
    (it needs no JSON escaping then), else one string as before."""
    if len(data) >= STREAM_FROM and _plain_base64(data):
        return Base64String(data, prefix)
    return prefix + data


def _plain_base64(text: str) -> bool:
    """Whether ``text`` holds base64's characters alone (checked a chunk at a time)."""
    if not text.isascii():
        return False
    for start in range(0, len(text), TEXT_CHUNK):
        if text[start:start + TEXT_CHUNK].encode("ascii").translate(None, _BASE64_ALPHABET):
            return False
    return True


class StreamedBody:
    """A JSON body written as its pieces with each large string's chunks between them."""

    __slots__ = ("pieces", "strings", "length")

    def __init__(self, pieces: list[bytes], strings: list[Base64String]):
        self.pieces, self.strings = pieces, strings
        self.length = sum(map(len, pieces)) + sum(map(len, strings))

    def __iter__(self) -> Iterator[bytes]:
        yield self.pieces[0]
        for string, piece in zip(self.strings, self.pieces[1:], strict=True):
            yield from string.chunks()
            if piece:
                yield piece


class _HasStreamed(Exception):
    """A body holds a Base64String: it is encoded again, split around each one."""


def _refuse(value):
    if isinstance(value, Base64String):
        raise _HasStreamed
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# One encoder for every body (json.dumps with options builds one a call: ~2 µs).
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=_refuse)


def encode(body: dict) -> bytes | StreamedBody:
    """``body`` as compact JSON: its bytes, or a :class:`StreamedBody` when it holds a
    :class:`Base64String` (a small body is encoded once, as ``json.dumps`` would)."""
    try:
        return _COMPACT.encode(body).encode()
    except _HasStreamed:
        pass
    strings: list[Base64String] = []
    marker = f"parlor-streamed-{secrets.token_hex(16)}"  # unguessable: no client text splits it

    def placeholder(value):
        if isinstance(value, Base64String):
            strings.append(value)
            return marker
        return _refuse(value)

    text = json.JSONEncoder(separators=(",", ":"), default=placeholder).encode(body)
    pieces = [piece.encode() for piece in text.split(f'"{marker}"')]
    return StreamedBody(pieces, strings)
