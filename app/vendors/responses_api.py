"""OpenAI's Responses API spoken natively: the request as the client sent it, and the upstream's
answer relayed as it came, read only for what Parlor needs (the response object of lifecycle
events, its usage for the ledger, errors).

Vendor kinds that speak it say so in the registry (``VendorKind.speaks_responses``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.vendors.types import Usage

# Events whose data carries the whole response object (``{"response": {...}}``).
LIFECYCLE_EVENTS = frozenset({"response.created", "response.in_progress", "response.queued",
                              "response.completed", "response.incomplete", "response.failed"})
FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


@dataclass(frozen=True, slots=True)
class ResponsesCall:
    """A ``POST /responses`` body for the vendor; ``model`` replaces the body's own once routed."""

    model: str
    body: Mapping[str, Any] = field(default_factory=dict)

    def params(self, **extra: Any) -> dict:
        return {**self.body, "model": self.model, **extra}


@dataclass(slots=True)
class ResponseEvent:
    """One server-sent event of a streamed response: its type and its data as sent. ``response``
    is the parsed response object of a lifecycle event (None for the others: never parsed)."""

    type: str
    data: str
    response: dict | None = None

    @property
    def final(self) -> bool:
        return self.type in FINAL_EVENTS

    def encode(self) -> str:
        return f"event: {self.type}\ndata: {self.data}\n\n"


class ResponsesStreamError(Exception):
    """The vendor sent an ``error`` event (its message)."""


def events(lines: Iterable[str]) -> Iterator[ResponseEvent]:
    """A streamed response's events from its lines (``event:`` / ``data:`` fields, blank line
    between events); an ``error`` event raises :class:`ResponsesStreamError`, a lifecycle
    event without a response object ``ValueError``."""
    name, data = None, []
    for line in lines:
        if line:
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            continue
        if data:
            yield _event(name, "\n".join(data))
        name, data = None, []
    if data:
        yield _event(name, "\n".join(data))


def _event(name: str | None, data: str) -> ResponseEvent:
    if name is None or name in LIFECYCLE_EVENTS or name == "error":
        parsed = json.loads(data)
        name = name or str(parsed.get("type") or "")
        if name == "error":
            raise ResponsesStreamError(error_text(parsed))
        if name in LIFECYCLE_EVENTS:
            response = parsed["response"]
            if not isinstance(response, dict):
                raise ValueError("a lifecycle event carries the response object")
            return ResponseEvent(name, data, response)
    return ResponseEvent(name, data)


def error_text(payload: Mapping) -> str:
    """The message of an ``error`` event (``{"message"}`` or ``{"error": {"message"}}``)."""
    error = payload.get("error") if isinstance(payload.get("error"), dict) else payload
    return str(error.get("message") or "the stream failed")


def usage_of(response: Mapping | None) -> Usage | None:
    """The ledger's usage of a response object (None when it reports none). ``input_tokens``
    counts the cached ones too, as ``Usage`` does."""
    usage = (response or {}).get("usage")
    if not isinstance(usage, dict):
        return None
    cached = (usage.get("input_tokens_details") or {}).get("cached_tokens")
    reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    return Usage(input_tokens=int(usage.get("input_tokens") or 0),
                 output_tokens=int(usage.get("output_tokens") or 0),
                 cache_read_tokens=int(cached or 0), reasoning_tokens=int(reasoning or 0))
