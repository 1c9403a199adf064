"""The reply stream (Server-Sent Events), its Stop control and Continue of an interrupted
reply."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from app import metrics
from app.services import chat, chat_stream, reply_followers
from app.web.access import (
    htmx_error,
    owned_conversation_or_404,
    owned_message_or_404,
    require_chat_permission,
)
from app.web.forms import EditMessageForm

bp = Blueprint("stream", __name__)
bp.before_request(require_chat_permission)

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx and friends: pass every event on at once
}


def _int_arg(name: str) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 13 else 0


def start_position():
    """Where a stream starts: after the ``Last-Event-ID`` an ``EventSource`` sends when it
    reconnects, else after what the page already shows (``?offset=`` of the text,
    ``&thinking=`` of the thinking)."""
    last = request.headers.get("Last-Event-ID")
    after = reply_followers.position(last) if last else None
    return after or reply_followers.position(None, _int_arg("offset"), _int_arg("thinking"))


@bp.get("/c/<conversation_id>/messages/<message_id>/stream")
def events(conversation_id: str, message_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    message = owned_message_or_404(conversation, message_id)

    def render(final) -> str:
        return render_template("chat/_message.html", message=final, conversation=conversation,
                               final=True, last_assistant=True, edit_form=EditMessageForm())

    follow = current_app.config["PARLOR_VENDOR_TIMEOUT"] + 30
    body = chat_stream.stream_reply(current_user._get_current_object(), conversation, message,
                                    render, follow_timeout=follow, start=start_position())
    return Response(stream_with_context(metrics.track_stream(body, "web")),
                    mimetype="text/event-stream",
                    headers=SSE_HEADERS)


@bp.post("/c/<conversation_id>/messages/<message_id>/stop")
def stop(conversation_id: str, message_id: str):
    """Set the cancel flag; the stream stores the partial reply and sends the final HTML."""
    conversation = owned_conversation_or_404(conversation_id)
    owned_message_or_404(conversation, message_id)
    chat_stream.stop(conversation, message_id)
    return "", 204


@bp.post("/c/<conversation_id>/messages/<message_id>/continue")
def continue_reply(conversation_id: str, message_id: str):
    """Ask the model to go on from an interrupted reply's text; the reply streams again."""
    conversation = owned_conversation_or_404(conversation_id)
    owned_message_or_404(conversation, message_id)
    try:
        reply = chat_stream.continue_reply(conversation, message_id)
    except chat.ChatError as exc:
        if request.headers.get("HX-Request"):
            return htmx_error(str(exc))
        return redirect(url_for("chat.show", conversation_id=conversation.id))
    if request.headers.get("HX-Request"):
        return render_template("chat/_message.html", message=reply, conversation=conversation,
                               last_assistant=True, edit_form=EditMessageForm())
    return redirect(url_for("chat.show", conversation_id=conversation.id, _anchor="composer"))
