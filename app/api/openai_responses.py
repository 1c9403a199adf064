"""OpenAI Responses API: ``POST /v1/responses`` (plain and streamed) for any routed model,
sent as is to vendors that speak it (``responses_native.py``), else translated to the
normalised request every vendor adapter speaks, and ``GET`` / ``DELETE
/v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items`` for the responses kept with
``store`` (the default).

``/v1/v1/responses`` answers too, as ``/v1/v1/messages`` does, for a base URL given twice.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from app.api import auth, errors, schemas
from app.api import responses_input_items as input_items
from app.api import responses_native as native
from app.api.responses_objects import ResponseDraft
from app.api.responses_stream import ResponsesStream
from app.api.schemas.openai_response_items import InputItemsQuery
from app.api.schemas.openai_responses import NativeResponsesRequest, ResponsesRequest
from app.api.streaming import relay, sse_response
from app.extensions import csrf
from app.services import gateway
from app.services import responses as stored
from app.services.relay import open_relay
from app.vendors import WIRE_FORMATS, ChatRequest, Route, dropped_fields

bp = Blueprint("openai_responses", __name__, url_prefix="/v1")
csrf.exempt(bp)
errors.install(bp, errors.OPENAI)


@bp.before_request
def authenticate():
    auth.authenticate()


@bp.post("/responses")
@bp.post("/v1/responses")
def create_response():
    raw = schemas.read_json_object()
    caller = auth.current_caller().for_ledger()
    if isinstance(raw.get("model"), str) and gateway.speaks_responses(caller, raw["model"]):
        native_body = schemas.parse(NativeResponsesRequest, raw)  # the rest is the vendor's
        return native.create(caller, native_body, raw, _history(caller, native_body))
    body = schemas.parse(ResponsesRequest, raw)
    history = _history(caller, body)
    chat_request = body.to_chat_request(history)
    draft = ResponseDraft(body)
    save = _saver(caller, body) if body.stores else None
    if body.stream:
        route, deltas = open_relay(caller, body.model, chat_request)
        encoder = ResponsesStream(draft, on_done=save)
        response = sse_response(relay(errors.OPENAI, encoder, deltas), route)
    else:
        result, route = gateway.complete(caller, body.model, chat_request)
        answer = draft.completed(result)
        if save is not None:
            save(answer)
        response = jsonify(answer)
        response.headers["x-parlor-route"] = route.label
    return _name_dropped(response, body, chat_request, route)


@bp.get("/responses/<response_id>")
def get_response(response_id: str):
    if request.args.get("stream", "").lower() in ("true", "1"):
        raise errors.ApiError(400, "Streaming a stored response again is not supported by "
                                   "Parlor yet; retrieve it without 'stream'.", param="stream")
    answer = stored.get(auth.current_caller().user.id, response_id)
    if answer is None:
        raise _not_found(response_id)
    return jsonify(answer)


@bp.get("/responses/<response_id>/input_items")
def list_input_items(response_id: str):
    items = stored.input_items(auth.current_caller().user.id, response_id)
    if items is None:
        raise _not_found(response_id)
    query = schemas.parse(InputItemsQuery, request.args.to_dict())
    return jsonify(input_items.page(response_id, items, query))


@bp.delete("/responses/<response_id>")
def delete_response(response_id: str):
    if not stored.delete(auth.current_caller().user.id, response_id):
        raise _not_found(response_id)
    return jsonify({"id": response_id, "object": "response", "deleted": True})


def _history(caller: gateway.Caller,
             body: ResponsesRequest | NativeResponsesRequest) -> list[dict] | None:
    """The stored conversation ``previous_response_id`` continues (404 when unknown)."""
    if not body.previous_response_id:
        return None
    history = stored.conversation(caller.user_id, body.previous_response_id)
    if history is None:
        raise _not_found(body.previous_response_id, param="previous_response_id")
    return history


def _saver(caller: gateway.Caller, body: ResponsesRequest) -> Callable[[dict], None]:
    """Keep a finished response for the key's owner, with the input it answered."""
    input_items = body.input_items

    def save(answer: dict) -> None:
        stored.save(user_id=caller.user_id, api_key_id=caller.api_key_id,
                    input_items=input_items, response=answer)

    return save


def _name_dropped(response: Response, body: ResponsesRequest, chat_request: ChatRequest,
                  route: Route) -> Response:
    """Name in ``x-parlor-dropped`` what the vendor did not get of the request."""
    target = WIRE_FORMATS.get(route.credential.kind)
    dropped = list(dict.fromkeys(body.dropped + body.dropped_for(target)
                                 + dropped_fields(chat_request, target)))
    if dropped:
        response.headers["x-parlor-dropped"] = ",".join(dropped)
    return response


def _not_found(response_id: str, param: str | None = None) -> errors.ApiError:
    # Another user's id gets the same answer as an unknown one: ids are not confirmed.
    return errors.ApiError(404, f"Response with id {response_id!r} not found.", param=param)
