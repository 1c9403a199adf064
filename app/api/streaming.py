"""Server-sent event responses for streamed completions, in either wire format."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import Response, stream_with_context

from app import metrics
from app.api import errors
from app.services import gateway, keepalive
from app.vendors import WIRE_FORMATS, ChatRequest, Route, VendorError, dropped_fields

log = logging.getLogger(__name__)


def relay(shape: str, encoder, deltas: keepalive.Paced) -> Iterator[str]:
    """The encoder's events for the relay's deltas (services/relay.py); a failure after the
    first event becomes the format's in-band error event, and a silent vendor a ``: ping``
    every ``keepalive.PING_SECONDS`` (a client gone is noticed only when a write fails).
    Closing this closes the upstream.

    Deltas that are already waiting when one is encoded go out with it in one write: a busy
    worker falls behind its streams, and a write a delta would cost it a syscall each."""
    waiting: list[str] = []
    try:
        yield encoder.start()
        for delta in deltas:
            if delta is keepalive.PING:
                yield keepalive.PING_EVENT
                continue
            waiting.extend(encoder.feed(delta))
            if waiting and not deltas.pending:
                yield "".join(waiting)
                waiting.clear()
        if waiting:
            yield "".join(waiting)
    except Exception as exc:  # the 200 is already out: only an in-band error can tell the client
        if not isinstance(exc, VendorError):
            log.exception("stream failed")
        error = errors.error_body(shape, errors.from_exception(exc))["error"]
        yield "".join(waiting) + encoder.error(error["message"], error["type"])
    finally:
        deltas.close()


def sse_response(events: Iterator[str], route: Route) -> Response:
    """A streamed response nothing on the way should buffer or cache."""
    response = Response(stream_with_context(metrics.track_stream(events, "v1")),
                        mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.headers["x-parlor-route"] = route.label
    return response


def mark_dropped(response: Response, request: ChatRequest, route: Route) -> Response:
    """Name in ``x-parlor-dropped`` what of the client's request the route's vendor did not get
    (its own-format fields, blocks and hosted tools, when the vendor speaks another format)."""
    dropped = dropped_fields(request, WIRE_FORMATS.get(route.credential.kind))
    if dropped:
        response.headers["x-parlor-dropped"] = ",".join(dropped)
    if cache := gateway.cache_state():  # on a route that caches answers: hit or miss
        response.headers["x-parlor-cache"] = cache
    return response
