"""``/api/v1/conversations/{id}/messages``: send a message and get the reply, plain or streamed.

Plain: the request waits for the reply and answers 201 with both stored messages; a vendor
failure is reported in the reply (``status: "error"``, ``error``), as the chat page shows it.
Streamed (``"stream": true``): Server-Sent Events — ``start`` (both messages, the reply
``streaming``: this request claimed it as it stored it, and its id is what ``.../stop``
takes), ``delta`` events (``{"text": ...}``) and a final
``done`` carrying the stored reply; each ``delta``'s id is the length of the text so far.
The reply is written whether or not the client stays (services/chat_stream.py): one that
lost its stream rejoins it with ``GET .../messages/{id}/stream`` and ``Last-Event-ID``.
"""

from __future__ import annotations

import json

from flask import Response, current_app, request, stream_with_context

from app import metrics
from app.api import rest, rest_auth
from app.api.conversations import CHAT_PERMISSION, owned_or_404, refused
from app.api.errors import ApiError
from app.api.schemas.rest import (
    ContinueRequest,
    MessageCreate,
    MessageOut,
    SentMessages,
    StopResult,
)
from app.models import Conversation, Message
from app.services import chat, chat_stream, reply_followers
from app.services.reply_leases import lease_until

bp = rest.blueprint("rest_messages", __name__)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@bp.before_request
def require_chat():
    rest_auth.require(CHAT_PERMISSION)


def message_or_404(conversation: Conversation, message_id: str) -> Message:
    """The conversation's message of this id; 404 in the REST shape otherwise."""
    found = chat.message(conversation, message_id)
    if found is None:
        raise ApiError(404, "There is no such message in this conversation.")
    return found


def message_json(message: Message) -> str:
    return MessageOut.model_validate(message).model_dump_json()


def delta_json(text: str) -> str:
    return json.dumps({"text": text}, ensure_ascii=False)


def _reply_events(conversation: Conversation, reply: Message, start=None, claimed=False,
                  request=None):
    caller = rest_auth.current()
    return chat_stream.stream_reply(
        caller.owner, conversation, reply, message_json,
        follow_timeout=current_app.config["PARLOR_VENDOR_TIMEOUT"] + 30,
        encode_delta=delta_json, source="api", key=caller.verified, start=start,
        claimed=claimed, request=request)


def _event_stream(events) -> Response:
    return Response(stream_with_context(metrics.track_stream(events, "rest")),
                    mimetype="text/event-stream", headers=SSE_HEADERS)


@bp.post("/conversations/<conversation_id>/messages")
def send(conversation_id: str):
    """Send a message; the reply comes in the answer (plain) or as it is written (SSE)."""
    conversation = owned_or_404(conversation_id)
    body = rest.parse_body(MessageCreate)
    try:  # the reply is claimed as it is stored: this request writes it
        sent = chat.send_and_claim(rest_auth.current().owner, conversation, body.content,
                                   body.attachments, lease_until())
    except chat.ChatError as exc:
        raise refused(exc) from None
    return answer(conversation, sent.message, sent.reply, body.stream, claimed=True,
                  request=sent.request)


def answer(conversation: Conversation, message: Message, reply: Message,
           stream: bool, *, claimed: bool = False, request=None) -> Response:
    """The user's message and its pending ``reply``, generated: streamed as SSE (``start``
    with both, then the reply's events) or waited for (201 with both stored). ``claimed``:
    the reply was claimed for this request as it was stored, the objects left loaded;
    ``request``: the vendor request already built for it."""
    sent = SentMessages(message=MessageOut.model_validate(message),
                        reply=MessageOut.model_validate(reply))
    caller = rest_auth.current()
    if stream:
        events = _reply_events(conversation, reply, claimed=claimed, request=request)
        if not claimed:
            chat.load_for_stream(conversation)
        start = reply_followers.sse("start", sent.model_dump_json())

        def stream_events():
            yield start
            yield from events

        return _event_stream(stream_events())
    reply = chat_stream.generate_reply(caller.owner, conversation, reply, source="api",
                                       key=caller.verified, claimed=claimed, request=request)
    return rest.data(SentMessages(message=sent.message, reply=MessageOut.model_validate(reply)),
                     201)


@bp.get("/conversations/<conversation_id>/messages/<message_id>/stream")
def rejoin(conversation_id: str, message_id: str):
    """The reply's events again (``delta`` from the text offset in ``Last-Event-ID``, then
    ``done``), live while it is being written: a client that lost its stream picks it up."""
    conversation = owned_or_404(conversation_id)
    reply = chat.message(conversation, message_id)
    if reply is None or reply.role != "assistant":
        raise ApiError(404, "There is no such reply in this conversation.")
    start = reply_followers.position(request.headers.get("Last-Event-ID"))
    if start is None:
        raise ApiError(400, "Last-Event-ID is the id of a delta or thinking event "
                            "(N or tN: an offset).")
    events = _reply_events(conversation, reply, start)
    chat.load_for_stream(conversation, reply)
    return _event_stream(events)


@bp.post("/conversations/<conversation_id>/messages/<message_id>/continue")
def continue_reply(conversation_id: str, message_id: str):
    """Ask the model to go on from a reply cut short (interrupted, incomplete); what it writes
    is appended to the same message: answered when done (200) or streamed from the end of the
    text it had (SSE ``delta`` ids go on from there)."""
    conversation = owned_or_404(conversation_id)
    message_or_404(conversation, message_id)
    body = rest.parse_body(ContinueRequest)
    try:
        reply = chat_stream.continue_reply(conversation, message_id)
    except chat.ChatError as exc:
        raise refused(exc) from None
    caller = rest_auth.current()
    if body.stream:
        start = reply_followers.position(None, len(reply.content), len(reply.thinking))
        events = _reply_events(conversation, reply, start)
        chat.load_for_stream(conversation, reply)
        return _event_stream(events)
    reply = chat_stream.generate_reply(caller.owner, conversation, reply, source="api",
                                       key=caller.verified)
    return rest.data(MessageOut.model_validate(reply))


@bp.post("/conversations/<conversation_id>/messages/<message_id>/stop")
def stop(conversation_id: str, message_id: str):
    """Stop a reply being written; its stream stores the text so far (status ``stopped``)."""
    conversation = owned_or_404(conversation_id)
    message_or_404(conversation, message_id)
    stopped = chat_stream.stop(conversation, message_id)
    reply = chat.message(conversation, message_id)
    return rest.data(StopResult(stopped=stopped, reply=MessageOut.model_validate(reply)))
