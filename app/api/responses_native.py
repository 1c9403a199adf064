"""``POST /v1/responses`` to a vendor that speaks the Responses API itself (registry:
``speaks_responses``): the request goes as the client sent it, the answer and every event come
back as the vendor sent them.

Parlor keeps what it owns: ``store`` and ``previous_response_id`` are Parlor's (the vendor gets
the whole conversation as input, with ``store: false``, so nothing depends on the vendor keeping
state), and the response object carries Parlor's id, the client's model and Parlor's ``store``
and ``previous_response_id``. Only lifecycle events (``response.created`` … ``response.completed``)
are read and rewritten for that; every other event is relayed byte for byte.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

from flask import Response, jsonify

from app.api import errors
from app.api.responses_objects import new_id
from app.api.schemas.openai_responses import NativeResponsesRequest
from app.api.streaming import sse_response
from app.services import gateway, keepalive
from app.services import responses as stored
from app.vendors import VendorError
from app.vendors.responses_api import ResponseEvent, ResponsesCall

log = logging.getLogger(__name__)

PARLOR_FIELDS = ("store", "previous_response_id", "stream")  # never sent as the client set them
KEPT = ("completed", "incomplete")  # the responses stored (a failed one is not)


def create(caller: gateway.Caller, body: NativeResponsesRequest, raw: dict,
           history: list[dict] | None) -> Response:
    """The vendor's answer to ``raw`` (the client's JSON body), stored when ``store`` says so."""
    items = _input_items(raw.get("input", []))
    sent = {name: value for name, value in raw.items() if name not in PARLOR_FIELDS}
    if history is not None:
        sent["input"] = [*history, *items]
    sent["store"] = False
    call = ResponsesCall(model=body.model, body=sent)
    # The id is Parlor's too: the vendor kept nothing under its own (store: false), and ids
    # Parlor mints never meet another user's or another vendor's in its store.
    own = {"id": new_id("resp"), "model": body.model, "store": body.stores,
           "previous_response_id": body.previous_response_id}
    save = _saver(caller, items) if body.stores else None
    if body.stream:
        route, events = gateway.open_response_stream(caller, body.model, call)
        return sse_response(_relay(keepalive.Paced(events), own, save), route)
    answer, route = gateway.respond(caller, body.model, call)
    answer.update(own)
    if save is not None and answer.get("status") in KEPT:
        save(answer)
    response = jsonify(answer)
    response.headers["x-parlor-route"] = route.label
    return response


def _relay(events: keepalive.Paced, own: dict,
           save: Callable[[dict], None] | None) -> Iterator[str]:
    """The vendor's events as it sent them (lifecycle ones naming Parlor's fields); a failure
    after the first becomes ``response.failed``; a silent vendor a ``: ping``."""
    latest: dict = {}
    try:
        for event in events:
            if event is keepalive.PING:
                yield keepalive.PING_EVENT
                continue
            if event.response is not None:
                latest = _owned(event, own)
                if save is not None and event.final and latest.get("status") in KEPT:
                    save(latest)
            yield event.encode()
    except Exception as exc:  # the 200 is already out: only an in-band event can tell
        if not isinstance(exc, VendorError):
            log.exception("responses stream failed")
        error = errors.error_body(errors.OPENAI, errors.from_exception(exc))["error"]
        failed = {**latest, **own, "status": "failed",
                  "error": {"code": "server_error", "message": error["message"]}}
        yield ResponseEvent("response.failed", json.dumps({
            "type": "response.failed", "response": failed})).encode()
    finally:
        events.close()


def _owned(event: ResponseEvent, own: dict) -> dict:
    """The event's response object with Parlor's fields, its data re-serialised to match."""
    event.response.update(own)
    data = json.loads(event.data)
    data["response"] = event.response
    event.data = json.dumps(data)
    return event.response


def _input_items(value) -> list[dict]:
    """The request's input as items (a string is one user message), as the client sent them."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return list(value)


def _saver(caller: gateway.Caller, items: list[dict]) -> Callable[[dict], None]:
    def save(answer: dict) -> None:
        stored.save(user_id=caller.user_id, api_key_id=caller.api_key_id,
                    input_items=items, response=answer)

    return save
