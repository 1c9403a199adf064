"""OpenAI-compatible ``POST /v1/embeddings`` (also ``/v1/v1/embeddings``, for a base URL given
twice) for models of OpenAI-type vendors; other vendors' models get a clear 400."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.api import auth, errors, schemas
from app.api.schemas.openai_embeddings import EmbeddingsRequest
from app.extensions import csrf
from app.services import gateway

bp = Blueprint("embeddings", __name__, url_prefix="/v1")
csrf.exempt(bp)
errors.install(bp, errors.OPENAI)


@bp.before_request
def authenticate():
    auth.authenticate()


@bp.post("/embeddings")
@bp.post("/v1/embeddings")
def create_embeddings():
    raw = schemas.read_json_object()
    body = schemas.parse(EmbeddingsRequest, raw)
    caller = auth.current_caller().for_ledger()
    result, route = gateway.embed(caller, body.model, body.to_embedding_request(raw))
    response = jsonify({
        "object": "list",
        "data": [{"object": "embedding", "index": index, "embedding": vector}
                 for index, vector in enumerate(result.vectors)],
        "model": body.model,
        "usage": {"prompt_tokens": result.usage.input_tokens,
                  "total_tokens": result.usage.input_tokens},
    })
    response.headers["x-parlor-route"] = route.label
    return response
