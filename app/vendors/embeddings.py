"""Embeddings: the normalised request and result, and the two wire encodings of a vector.

OpenAI sends a vector as a JSON list of floats or, with ``encoding_format: "base64"``, as the
base64 of its little-endian float32 bytes (what the ``openai`` SDK asks for by default).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from app.vendors.types import Usage

EncodingFormat = Literal["float", "base64"]
# A string, strings, token ids or lists of token ids, as the client sent them.
EmbeddingInput = str | list[str] | list[int] | list[list[int]]
Vector = list[float] | str  # floats, or base64 float32


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    model: str  # the upstream model name once routed
    input: EmbeddingInput
    encoding_format: EncodingFormat = "float"
    dimensions: int | None = None
    user: str | None = None
    # The client's other fields (OpenAI-compatible servers' own, such as input_type):
    # forwarded unchanged, as only OpenAI-type vendors make embeddings.
    native_fields: Mapping[str, Any] = field(default_factory=dict)

    def input_count(self) -> int:
        """How many vectors the input asks for: one per string or per list of token ids."""
        if isinstance(self.input, str) or all(isinstance(item, int) for item in self.input):
            return 1
        return len(self.input)

    def texts(self) -> list[str]:
        """The input's strings (none when it is token ids)."""
        if isinstance(self.input, str):
            return [self.input]
        return [item for item in self.input if isinstance(item, str)]

    def token_count(self) -> int:
        """How many token ids the input holds (0 when it is text)."""
        if isinstance(self.input, str):
            return 0
        return sum(len(item) if isinstance(item, list) else isinstance(item, int)
                   for item in self.input)


@dataclass(frozen=True, slots=True)
class Embeddings:
    """One vector per input, in input order, in the encoding the request asked for."""

    vectors: tuple[Vector, ...]
    model: str
    usage: Usage


def encoded(vector: Vector, encoding_format: EncodingFormat) -> Vector:
    """``vector`` in ``encoding_format`` (servers that ignore the format send floats);
    ValueError for a base64 vector that is not float32 values."""
    if encoding_format == "base64":
        if isinstance(vector, str):
            return vector
        try:
            packed = struct.pack(f"<{len(vector)}f", *vector)
        except struct.error:
            raise ValueError("an embedding is a list of numbers") from None
        return base64.b64encode(packed).decode("ascii")
    if isinstance(vector, str):
        raw = base64.b64decode(vector, validate=True)
        if len(raw) % 4:
            raise ValueError("a base64 embedding is whole float32 values")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return vector
