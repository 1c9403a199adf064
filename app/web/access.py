"""What the chat pages share: the access rule, the send limit, ownership lookups and htmx
error answers."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from app import limits
from app.services import chat

CHAT_SEND_ENDPOINTS = frozenset({"chat.create", "chat.send", "chat.regenerate", "chat.edit",
                                 "stream.continue_reply", "attachments.upload"})


@login_required
def require_chat_permission():
    """A ``before_request`` hook: signed in, and a role that may chat."""
    if not current_user.role.can("chat"):
        abort(403)


def limit_chat_sends():
    """A ``before_request`` hook after :func:`require_chat_permission`: sending, regenerating
    or editing counts against the user's rate limit; over it, an inline message (htmx) or an
    error page, with ``Retry-After``."""
    if request.endpoint not in CHAT_SEND_ENDPOINTS or not current_user.is_authenticated:
        return None
    try:
        limits.check_chat_send(current_user)
    except limits.RateLimited as refusal:
        message = f"You are sending messages too fast. Try again in {refusal.retry_after} s."
        retry = {"Retry-After": str(refusal.retry_after)}
        if request.headers.get("HX-Request"):
            html, status, headers = htmx_error(message)
            return html, status, headers | retry
        return render_template("errors/error.html", status=429, message=message), 429, retry
    return None


def owned_conversation_or_404(conversation_id: str):
    conversation = chat.conversation_of(current_user, conversation_id)
    if conversation is None:
        abort(404)
    return conversation


def owned_message_or_404(conversation, message_id: str):
    message = chat.message(conversation, message_id)
    if message is None:
        abort(404)
    return message


def htmx_error(message: str):
    """An inline error for an htmx request, shown above the composer (422 is swapped, see
    base.html's htmx-config)."""
    html = render_template("chat/_error.html", message=message)
    return html, 422, {"HX-Retarget": "#composer-error", "HX-Reswap": "innerHTML"}
