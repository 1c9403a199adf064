"""OpenAI-compatible endpoints: ``POST /v1/chat/completions`` and ``GET /v1/models``.

``GET /v1/models`` is also where Anthropic clients (base URL without ``/v1``) list models:
they always send ``anthropic-version``, and get Anthropic's shape, errors included.
"""

from __future__ import annotations

import secrets
import time

from flask import Blueprint, g, jsonify, request

from app.api import auth, errors, schemas
from app.api.schemas.openai_chat import ChatCompletionRequest
from app.api.streaming import mark_dropped, relay, sse_response
from app.extensions import csrf
from app.formatting import wire
from app.services import gateway
from app.services.relay import open_relay

bp = Blueprint("openai_compat", __name__, url_prefix="/v1")
csrf.exempt(bp)
errors.install(bp, errors.OPENAI)
MODEL_ENDPOINTS = ("openai_compat.list_models", "openai_compat.get_model")


def _anthropic_client() -> bool:
    return request.endpoint in MODEL_ENDPOINTS and bool(request.headers.get("anthropic-version"))


@bp.before_request
def authenticate():
    anthropic_client = _anthropic_client()
    if anthropic_client:
        g.api_shape = errors.ANTHROPIC
    auth.authenticate(allow_x_api_key=anthropic_client)


@bp.post("/chat/completions")
def chat_completions():
    raw = schemas.read_json_object()
    body = schemas.parse(ChatCompletionRequest, raw)
    caller = auth.current_caller().for_ledger()
    chat_request = body.to_chat_request(raw)
    completion_id, created = "chatcmpl-" + secrets.token_hex(12), int(time.time())
    if body.stream:
        route, deltas = open_relay(caller, body.model, chat_request)
        encoder = wire.OpenAIStream(id=completion_id, model=body.model, created=created,
                                    include_usage=body.include_usage)
        return mark_dropped(sse_response(relay(errors.OPENAI, encoder, deltas), route),
                            chat_request, route)
    result, route = gateway.complete(caller, body.model, chat_request)
    response = jsonify(wire.openai_completion(result, id=completion_id, model=body.model,
                                              created=created))
    response.headers["x-parlor-route"] = route.label
    return mark_dropped(response, chat_request, route)


@bp.get("/models")
def list_models():
    caller = auth.current_caller()
    models = gateway.models(caller.role, caller.team_id)
    if _anthropic_client():
        return jsonify(wire.anthropic_model_list(models))
    return jsonify(wire.openai_model_list(models))


@bp.get("/models/<path:model_id>")
def get_model(model_id: str):
    caller = auth.current_caller()
    model = gateway.find_model(model_id, caller.role, caller.team_id)
    if model is None:
        raise errors.ApiError(
            404, f"The model {model_id!r} does not exist or you do not have access to it.",
            kind="model_not_found", param="model")
    if _anthropic_client():
        return jsonify(wire.anthropic_model(model))
    return jsonify(wire.openai_model(model))
