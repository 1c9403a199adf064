"""Request schemas of the JSON API (pydantic), one module per wire format.

Each schema validates a request body and converts it into the vendor manager's normalised
``ChatRequest``; :func:`parse` turns validation failures into a 400 the client can act on.
"""

from __future__ import annotations

import json
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError

from app.api import tags
from app.api.errors import ApiError

Schema = TypeVar("Schema", bound=BaseModel)


class WireModel(BaseModel):
    """A wire object: unknown fields are refused, as the vendors' own APIs do."""

    model_config = ConfigDict(extra="forbid")


class OpenWireModel(BaseModel):
    """A wire object whose extra fields are harmless (cache hints, citations...)."""

    model_config = ConfigDict(extra="allow")


def read_json_object() -> dict:
    """The request body as a JSON object; 400 when it is not one, 413 when it is too large."""
    raw = request.get_data(cache=False)  # raises 413 over MAX_CONTENT_LENGTH
    try:
        # Decoded first and the bytes let go before parsing (what json.loads(bytes) does,
        # holding the bytes meanwhile): a 10 MB image's body is held twice at most, not thrice.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        del raw
        body = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    tags.take_body_tags(body)  # metadata.tags are Parlor's spend tags, not the vendor's
    return body


def parse(schema: type[Schema], body: dict) -> Schema:
    """Validate ``body`` against ``schema``; the first problem becomes a 400."""
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        # Our own checks explain best; a union's per-branch type errors explain least.
        first = min(errors, key=lambda e: 0 if e["type"] == "value_error" else 1)
        location = ".".join(str(p) for p in first["loc"] if not _is_branch(p))
        message = first["msg"].removeprefix("Value error, ")
        if not location:  # a check across fields names them itself
            raise ApiError(400, message) from None
        raise ApiError(400, f"{location}: {message}", param=location) from None


def _is_branch(part) -> bool:
    """Pydantic names union branches in error locations (``str``, ``list[TextPart]``, tags)."""
    return isinstance(part, str) and ("[" in part or part in BRANCH_NAMES)


BRANCH_NAMES = {"str", "int", "float", "bool", "dict", "list", "none", "function-after",
                "function-before", "function-plain", "function-wrap"}


def unsupported(what: str) -> ValueError:
    """A validation error for a feature Parlor does not offer yet."""
    return ValueError(f"{what} is not supported by Parlor yet.")
