"""``/api/v1/conversations/{id}/messages/{message_id}/edit`` and ``.../regenerate``: new
versions of a message, as the chat page's **Edit** and **Regenerate** make them.

Both add a sibling (services/chat.py: nothing is replaced or deleted), make its branch the
one shown and answer like sending a message: the user's message and the new reply, waited
for (201) or streamed (SSE ``start``, ``thinking`` / ``delta``, ``done``). Which branch is
shown is switched with ``PATCH /api/v1/conversations/{id}`` (``current_leaf_id``).
"""

from __future__ import annotations

from app.api import rest, rest_auth
from app.api.conversations import CHAT_PERMISSION, owned_or_404, refused
from app.api.messages import answer, message_or_404
from app.api.schemas.rest import MessageEdit, Regenerate
from app.services import chat
from app.services.reply_leases import lease_until

bp = rest.blueprint("rest_branches", __name__)


@bp.before_request
def require_chat():
    rest_auth.require(CHAT_PERMISSION)


@bp.post("/conversations/<conversation_id>/messages/<message_id>/edit")
def edit(conversation_id: str, message_id: str):
    """A changed version of one of the user's messages (any one): a sibling of it, with a new
    reply; the original and everything after it stay as the other branch."""
    conversation = owned_or_404(conversation_id)
    message_or_404(conversation, message_id)
    body = rest.parse_body(MessageEdit)
    try:
        reply = chat.edit_message(conversation, message_id, body.content,
                                  lease_until=lease_until())
    except chat.ChatError as exc:
        raise refused(exc) from None
    return answer(conversation, message_or_404(conversation, reply.parent_id), reply,
                  body.stream, claimed=True)


@bp.post("/conversations/<conversation_id>/messages/<message_id>/regenerate")
def regenerate(conversation_id: str, message_id: str):
    """A new version of a reply (optionally from another model) beside the one given, which
    stays as the other branch."""
    conversation = owned_or_404(conversation_id)
    message_or_404(conversation, message_id)
    body = rest.parse_body(Regenerate)
    try:
        reply = chat.regenerate(conversation, message_id, user=rest_auth.current().user,
                                model=body.model, lease_until=lease_until())
    except chat.ChatError as exc:
        raise refused(exc) from None
    return answer(conversation, message_or_404(conversation, reply.parent_id), reply,
                  body.stream, claimed=True)
