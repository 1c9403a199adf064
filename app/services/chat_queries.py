"""Reading a user's conversations: pages, search, one conversation and its messages.

Every lookup is scoped to the owner: another user's id reads exactly like a missing one.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Conversation, Message, User
from app.repositories import conversations as repo
from app.repositories.pages import Page

MAX_SEARCH_RESULTS = 500


def page(user: User, number: int, per_page: int, order_by: str) -> Page[Conversation]:
    return repo.page_of(user.id, page=number, per_page=per_page, order_by=order_by)


def search(user: User, query: str, number: int,
           per_page: int) -> tuple[list[tuple[Conversation, str]], bool]:
    """One page of search hits (conversation, matching text) and whether more follow."""
    start = (number - 1) * per_page
    wanted = min(start + per_page + 1, MAX_SEARCH_RESULTS)
    hits = repo.search(user.id, query, limit=wanted) if start < wanted else []
    return hits[start:start + per_page], len(hits) > start + per_page


def conversation(user: User, conversation_id: str) -> Conversation | None:
    return repo.owned(conversation_id, user.id)


def messages(conversation: Conversation) -> list[Message]:
    return repo.messages(conversation.id)


def message(conversation: Conversation, message_id: str) -> Message | None:
    return repo.message_in(conversation.id, message_id)


def load_for_stream(*objects) -> None:
    """Load ``objects`` afresh: a streamed response runs after this request's session has
    closed, and must not find them expired by the commit that stored the message."""
    for obj in objects:
        db.session.refresh(obj)
