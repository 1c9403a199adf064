"""What the chat pages share: the access rule, ownership lookups and htmx error answers."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user, login_required

from app.repositories import conversations as repo


@login_required
def require_chat_permission():
    """A ``before_request`` hook: signed in, and a role that may chat."""
    if not current_user.role.can("chat"):
        abort(403)


def owned_conversation_or_404(conversation_id: str):
    conversation = repo.owned(conversation_id, current_user.id)
    if conversation is None:
        abort(404)
    return conversation


def owned_message_or_404(conversation, message_id: str):
    message = repo.message_in(conversation.id, message_id)
    if message is None:
        abort(404)
    return message


def htmx_error(message: str):
    """An inline error for an htmx request, shown above the composer (422 is swapped, see
    base.html's htmx-config)."""
    html = render_template("chat/_error.html", message=message)
    return html, 422, {"HX-Retarget": "#composer-error", "HX-Reswap": "innerHTML"}
