"""The reply stream (Server-Sent Events) and its Stop control."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, stream_with_context
from flask_login import current_user

from app import metrics
from app.services import chat, chat_stream
from app.web.access import owned_conversation_or_404, owned_message_or_404, require_chat_permission
from app.web.forms import EditMessageForm

bp = Blueprint("stream", __name__)
bp.before_request(require_chat_permission)

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx and friends: pass every event on at once
}


@bp.get("/c/<conversation_id>/messages/<message_id>/stream")
def events(conversation_id: str, message_id: str):
    conversation = owned_conversation_or_404(conversation_id)
    message = owned_message_or_404(conversation, message_id)

    def render(final) -> str:
        return render_template("chat/_message.html", message=final, conversation=conversation,
                               final=True, last_assistant=True, edit_form=EditMessageForm())

    follow = current_app.config["PARLOR_VENDOR_TIMEOUT"] + 30
    body = chat_stream.stream_reply(current_user._get_current_object(), conversation, message,
                                    render, follow_timeout=follow)
    return Response(stream_with_context(metrics.track_stream(body, "web")),
                    mimetype="text/event-stream",
                    headers=SSE_HEADERS)


@bp.post("/c/<conversation_id>/messages/<message_id>/stop")
def stop(conversation_id: str, message_id: str):
    """Set the cancel flag; the stream stores the partial reply and sends the final HTML."""
    conversation = owned_conversation_or_404(conversation_id)
    owned_message_or_404(conversation, message_id)
    chat.stop(conversation, message_id)
    return "", 204
