"""``/api/v1/conversations``: list (pages, search), create, read with messages, update, delete.

Another user's conversation id answers 404, exactly like a missing one, and changes nothing.
"""

from __future__ import annotations

from app.api import rest, rest_auth
from app.api.errors import ApiError
from app.api.schemas.rest import (
    ConversationCreate,
    ConversationDetail,
    ConversationListItem,
    ConversationOut,
    ConversationQuery,
    ConversationUpdate,
    MessageOut,
    PageMeta,
)
from app.models import Conversation
from app.services import chat

bp = rest.blueprint("rest_conversations", __name__)
CHAT_PERMISSION = "chat"


@bp.before_request
def require_chat():
    rest_auth.require(CHAT_PERMISSION)


def owned_or_404(conversation_id: str) -> Conversation:
    conversation = chat.conversation_of(rest_auth.current().owner, conversation_id)
    if conversation is None:
        raise ApiError(404, "There is no such conversation.")
    return conversation


def refused(exc: chat.ChatError) -> ApiError:
    chat.discard_changes()
    status = getattr(exc, "status", 400)  # 409: a reply of the branch is still being written
    return ApiError(status, str(exc), kind="conflict" if status == 409 else None)


def detail(conversation: Conversation) -> ConversationDetail:
    """The conversation with its whole tree of messages and the branch shown."""
    path = chat.branch_ids(conversation)
    return ConversationDetail.model_validate(
        {**ConversationOut.model_validate(conversation).model_dump(),
         "current_leaf_id": path[-1] if path else None, "path": path,
         "messages": [MessageOut.model_validate(m)
                      for m in chat.messages(conversation)]})


@bp.get("/conversations")
def index():
    """The caller's conversations, a page at a time; ``q`` searches titles and messages."""
    query = rest.parse_query(ConversationQuery)
    user = rest_auth.current().user
    if query.q and query.q.strip():
        hits, more = chat.search_page(user, query.q, query.page, query.per_page)
        items = [ConversationListItem.model_validate(
            {**ConversationOut.model_validate(c).model_dump(), "snippet": text})
            for c, text in hits]
        meta = PageMeta(page=query.page, per_page=query.per_page, total=None, has_more=more)
        return rest.listing(items, meta)
    found = chat.conversations_page(user, query.page, query.per_page, query.order_by)
    # An out-of-range page is empty rather than the last page again.
    rows = found.items if found.number == query.page else []
    items = [ConversationListItem.model_validate(c) for c in rows]
    meta = PageMeta(page=query.page, per_page=query.per_page, total=found.total,
                    has_more=query.page < found.pages)
    return rest.listing(items, meta)


@bp.post("/conversations")
def create():
    """Start a conversation (no message yet)."""
    body = rest.parse_body(ConversationCreate)
    user = rest_auth.current().user
    if body.title is not None and not body.title.strip():
        raise ApiError(400, "title: give the conversation a title.", param="title")
    try:
        conversation = chat.start_conversation(
            user, body.model, body.system_prompt or "",
            body.options.model_dump() if body.options else None)
        if body.title is not None:
            chat.rename(conversation, body.title)
    except chat.ChatError as exc:
        raise refused(exc) from None
    return rest.data(detail(conversation), 201)


@bp.get("/conversations/<conversation_id>")
def show(conversation_id: str):
    """One conversation with all its messages (every branch), oldest first, and the branch
    shown (``path``, ending at ``current_leaf_id``)."""
    return rest.data(detail(owned_or_404(conversation_id)))


@bp.patch("/conversations/<conversation_id>")
def update(conversation_id: str):
    """Rename it, switch the model, system prompt or options used for the next replies, or
    show another branch (``current_leaf_id``)."""
    conversation = owned_or_404(conversation_id)
    body = rest.parse_body(ConversationUpdate)
    try:
        chat.update_conversation(
            rest_auth.current().user, conversation, title=body.title, model=body.model,
            system_prompt=body.system_prompt,
            options=body.options.model_dump() if body.options else None,
            current_leaf_id=body.current_leaf_id)
    except chat.ChatError as exc:
        raise refused(exc) from None
    return rest.data(detail(conversation))


@bp.delete("/conversations/<conversation_id>")
def delete(conversation_id: str):
    """Delete it and its messages."""
    chat.delete_conversation(owned_or_404(conversation_id))
    return rest.no_content()
