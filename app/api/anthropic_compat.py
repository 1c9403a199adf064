"""Anthropic-compatible ``POST /v1/messages`` (plain and streamed), for any routed model.

``/v1/v1/messages`` answers too: an Anthropic client given a base URL ending in ``/v1``
(the OpenAI convention) calls it.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, jsonify, request

from app.api import auth, errors, schemas
from app.api.schemas.anthropic_messages import (
    FORWARDED_HEADERS,
    CountTokensRequest,
    MessagesRequest,
)
from app.api.streaming import mark_dropped, relay, sse_response
from app.extensions import csrf
from app.formatting import wire
from app.services import gateway
from app.services.relay import open_relay
from app.vendors import ChatRequest

bp = Blueprint("anthropic_compat", __name__, url_prefix="/v1")
csrf.exempt(bp)
errors.install(bp, errors.ANTHROPIC)


@bp.before_request
def authenticate():
    auth.authenticate(allow_x_api_key=True)


@bp.post("/messages")
@bp.post("/v1/messages")
def messages():
    body, chat_request = _read(MessagesRequest)
    caller = auth.current_caller().for_ledger()
    message_id = "msg_" + secrets.token_hex(12)
    if body.stream:
        route, deltas = open_relay(caller, body.model, chat_request)
        encoder = wire.AnthropicStream(id=message_id, model=body.model)
        return mark_dropped(sse_response(relay(errors.ANTHROPIC, encoder, deltas), route),
                            chat_request, route)
    result, route = gateway.complete(caller, body.model, chat_request)
    response = jsonify(wire.anthropic_message(result, id=message_id, model=body.model))
    response.headers["x-parlor-route"] = route.label
    return mark_dropped(response, chat_request, route)


@bp.post("/messages/count_tokens")
@bp.post("/v1/messages/count_tokens")
def count_tokens():
    body, chat_request = _read(CountTokensRequest)
    tokens, route = gateway.count_tokens(auth.current_caller().for_ledger(), body.model,
                                         chat_request)
    response = jsonify({"input_tokens": tokens})
    response.headers["x-parlor-route"] = route.label
    return response


def _read(schema: type[MessagesRequest]) -> tuple[MessagesRequest, ChatRequest]:
    """The request body, validated, and as a normalised request with its forwarded headers."""
    raw = schemas.read_json_object()
    body = schemas.parse(schema, raw)
    body.check_version(request.headers.get("anthropic-version"))
    forwarded = {name: request.headers.get(name, "") for name in FORWARDED_HEADERS}
    return body, body.to_chat_request(raw, forwarded)
