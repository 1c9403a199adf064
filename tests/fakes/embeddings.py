"""The fake vendor's ``POST /v1/embeddings``: deterministic vectors, as OpenAI shapes them.

Each input's vector is derived from the SHA-256 of its JSON text, ``dimensions`` long
(:data:`DEFAULT_DIMENSIONS` without it), values in [-1, 1); ``encoding_format: "base64"``
sends the base64 of the little-endian float32 bytes, as OpenAI does. A model named
``error-<status>`` answers that status. Usage: one token a word, or a token a token id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from typing import Any

DEFAULT_DIMENSIONS = 8


def vector(item: Any, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The fake's embedding of one input (a string or a list of token ids), as float32 values."""
    seed, values = json.dumps(item).encode(), []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        values += [int.from_bytes(digest[i:i + 2], "big") / 32768 - 1 for i in range(0, 32, 2)]
        counter += 1
    # Rounded through float32, so a base64 answer decodes to exactly these numbers.
    return list(struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f",
                                                             *values[:dimensions])))


def answer(body: Any) -> tuple[int, Any]:
    """(status, the response body, or an error message for a status other than 200)."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return 400, "model and input are required."
    model, data = body["model"], body.get("input")
    if model.startswith("error-") and model[6:].isdigit():
        return int(model[6:]), f"The fake vendor answers {model}."
    if isinstance(data, str) or (isinstance(data, list) and data
                                 and all(isinstance(t, int) for t in data)):
        data = [data]
    if not isinstance(data, list) or not data:
        return 400, "'$.input' is invalid."
    dimensions = body.get("dimensions") or DEFAULT_DIMENSIONS
    if not isinstance(dimensions, int) or dimensions < 1:
        return 400, "dimensions must be a positive integer."
    base64_format = body.get("encoding_format") == "base64"
    items = []
    for index, item in enumerate(data):
        values = vector(item, dimensions)
        embedding = (base64.b64encode(struct.pack(f"<{dimensions}f", *values)).decode()
                     if base64_format else values)
        items.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(len(item.split()) if isinstance(item, str) else len(item) for item in data)
    return 200, {"object": "list", "data": items, "model": model,
                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
