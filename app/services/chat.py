"""Chat: a user's conversations and messages — reading them, sending, editing and the reply
placeholders (streamed by chat_stream).

Every lookup is scoped to the owner: another user's id reads exactly like a missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import db
from app.models import Conversation, Message, MessageStatus, User
from app.repositories import conversations as repo
from app.repositories.pages import Page
from app.services.vendors import vendor_manager
from app.vendors import ChatMessage, ModelInfo, UnknownModelError
from app.vendors import errors as vendor_errors

MAX_MESSAGE_CHARS = 100_000
MAX_SYSTEM_PROMPT_CHARS = 20_000
MAX_TITLE_CHARS = 200
NEW_TITLE = "New chat"
SEARCH_LIMIT = 30  # hits on the search page
MAX_SEARCH_RESULTS = 500  # the furthest the paged (API) search reaches

USER_FACING_ERRORS = [
    (vendor_errors.VendorRateLimited, "The model's vendor is rate limiting requests. "
                                      "Try again in a moment."),
    (vendor_errors.VendorTimeout, "The model took too long to answer."),
    (vendor_errors.VendorAuthError, "The vendor refused Parlor's key; ask an admin to check it."),
    (vendor_errors.VendorModelNotFound, "The vendor does not offer this model."),
    (vendor_errors.VendorBadRequest, "The vendor refused this request."),
    (vendor_errors.VendorUnavailable, "The model's vendor is unavailable right now."),
]


class ChatError(ValueError):
    """A chat request that breaks a rule; the message is shown to the user."""


def describe_error(exc: Exception) -> str:
    """A short message for the chat page; never the upstream body or a secret."""
    if isinstance(exc, UnknownModelError):
        return str(exc)
    for cls, text in USER_FACING_ERRORS:
        if isinstance(exc, cls):
            return text
    return "The reply failed."


def conversation_of(user: User, conversation_id: str) -> Conversation | None:
    """The user's conversation with this id, or None (also for another user's id)."""
    return repo.owned(conversation_id, user.id)


def recent_conversations(user: User, *, limit: int, offset: int = 0) -> list[Conversation]:
    """The user's conversations, most recently updated first."""
    return repo.recent(user.id, limit=limit, offset=offset)


def conversations_page(user: User, number: int, per_page: int,
                       order_by: str) -> Page[Conversation]:
    """One page of the user's conversations in ``order_by`` (``-`` first for descending)."""
    return repo.page_of(user.id, page=number, per_page=per_page, order_by=order_by)


def search(user: User, query: str, limit: int = SEARCH_LIMIT) -> list[tuple[Conversation, str]]:
    """The user's conversations matching ``query``, newest first, with a matching text."""
    return repo.search(user.id, query, limit=limit)


def search_page(user: User, query: str, number: int,
                per_page: int) -> tuple[list[tuple[Conversation, str]], bool]:
    """One page of search hits (conversation, matching text) and whether more follow."""
    start = (number - 1) * per_page
    wanted = min(start + per_page + 1, MAX_SEARCH_RESULTS)
    hits = search(user, query, limit=wanted) if start < wanted else []
    return hits[start:start + per_page], len(hits) > start + per_page


def messages(conversation: Conversation) -> list[Message]:
    """The conversation's messages, oldest first."""
    return repo.messages(conversation.id)


def messages_to_show(conversation: Conversation) -> list:
    """The conversation's messages as light rows of what the chat page shows."""
    return repo.messages_to_show(conversation.id)


def message(conversation: Conversation, message_id: str) -> Message | None:
    """The message with this id if it belongs to ``conversation``."""
    return repo.message_in(conversation.id, message_id)


def load_for_stream(*objects) -> None:
    """Load ``objects`` afresh: a streamed response runs after this request's session has
    closed, and must not find them expired by the commit that stored the message."""
    for obj in objects:
        db.session.refresh(obj)


def available_models(user: User) -> list[ModelInfo]:
    return vendor_manager().models(user.role.name)


def _check_model(user: User, model: str) -> None:
    try:
        vendor_manager().routes_for(model, user.role.name)
    except UnknownModelError as exc:
        raise ChatError(str(exc)) from None


def _check_system_prompt(system_prompt: str) -> str:
    if len(system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
        raise ChatError(f"The system prompt is limited to {MAX_SYSTEM_PROMPT_CHARS} characters.")
    return system_prompt.strip()


def _check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ChatError("Type a message first.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ChatError(f"Messages are limited to {MAX_MESSAGE_CHARS} characters.")
    return text


def _check_idle(conversation: Conversation) -> None:
    if repo.has_open_reply(conversation.id):
        raise ChatError("A reply is still being written: wait for it or stop it first.")


def start_conversation(user: User, model: str, system_prompt: str = "") -> Conversation:
    _check_model(user, model)
    conversation = Conversation(user_id=user.id, model=model, title=NEW_TITLE,
                                system_prompt=_check_system_prompt(system_prompt or ""))
    repo.add(conversation)
    db.session.commit()
    return conversation


def configure(user: User, conversation: Conversation, *, model: str | None = None,
              system_prompt: str | None = None) -> None:
    """Switch the conversation's model or system prompt for the next replies (not committed)."""
    if model and model != conversation.model:
        _check_model(user, model)
        conversation.model = model
    if system_prompt is not None:
        conversation.system_prompt = _check_system_prompt(system_prompt)


def update_conversation(user: User, conversation: Conversation, *, title: str | None = None,
                        model: str | None = None, system_prompt: str | None = None) -> None:
    """Rename and reconfigure a conversation at once; on a refusal nothing changes."""
    try:
        configure(user, conversation, model=model, system_prompt=system_prompt)
        if title is not None:
            rename(conversation, title)  # commits
        else:
            db.session.commit()
    except ChatError:
        db.session.rollback()
        raise


def send_message(user: User, conversation: Conversation, text: str) -> tuple[Message, Message]:
    """Store the user's message and a pending reply; the reply is generated by its stream."""
    text = _check_text(text)
    _check_idle(conversation)
    now = datetime.now(UTC)
    message = Message(conversation_id=conversation.id, seq=repo.next_seq(conversation.id),
                      role="user", content=text, created_at=now)
    repo.add(message)
    if conversation.title == NEW_TITLE:
        conversation.title = _title_from(text)
    db.session.flush()
    placeholder = _placeholder(conversation)
    db.session.commit()  # the user's words are safe before the vendor is called
    return message, placeholder


def regenerate(conversation: Conversation) -> Message:
    """Replace the last reply (finished, stopped or failed) by a new pending one."""
    _check_idle(conversation)
    turns = repo.messages(conversation.id)
    if not turns or turns[-1].role != "assistant":
        raise ChatError("There is no reply to regenerate.")
    previous = turns[-1]
    repo.delete_messages_after(conversation.id, previous.seq - 1)
    db.session.flush()
    placeholder = _placeholder(conversation)
    db.session.commit()
    return placeholder


def edit_last_message(conversation: Conversation, message_id: str, text: str) -> Message:
    """Change the last user message, drop what followed it and ask for a new reply."""
    text = _check_text(text)
    _check_idle(conversation)
    last_user = next((m for m in reversed(repo.messages(conversation.id)) if m.role == "user"),
                     None)
    if last_user is None or last_user.id != message_id:
        raise ChatError("Only your last message can be edited.")
    last_user.content = text
    repo.delete_messages_after(conversation.id, last_user.seq)
    db.session.flush()
    placeholder = _placeholder(conversation)
    db.session.commit()
    return placeholder


def _placeholder(conversation: Conversation) -> Message:
    placeholder = Message(conversation_id=conversation.id, seq=repo.next_seq(conversation.id),
                          role="assistant", model=conversation.model,
                          status=MessageStatus.PENDING)
    repo.add(placeholder)
    conversation.updated_at = datetime.now(UTC)
    return placeholder


def stop(conversation: Conversation, message_id: str) -> bool:
    """Ask the stream of an unfinished reply to stop; False when it has already ended."""
    stopped = repo.stop_reply(message_id) if repo.message_in(conversation.id, message_id) else False
    db.session.commit()
    return stopped


def history(conversation: Conversation, before_seq: int) -> list[ChatMessage]:
    """The conversation as the model sees it: system prompt, then the kept turns."""
    turns = [ChatMessage(role="system", content=conversation.system_prompt)] \
        if conversation.system_prompt else []
    for message in repo.messages(conversation.id):
        if message.seq >= before_seq:
            break
        if message.status == MessageStatus.ERROR or not message.content:
            continue
        turns.append(ChatMessage(role=message.role, content=message.content))
    return turns


def rename(conversation: Conversation, title: str) -> None:
    title = " ".join((title or "").split())
    if not title:
        raise ChatError("Give the conversation a title.")
    conversation.title = title[:MAX_TITLE_CHARS]
    db.session.commit()


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:57].rstrip() + "…"


def delete_conversation(conversation: Conversation) -> None:
    repo.delete(conversation)
    db.session.commit()


def discard_changes() -> None:
    """Forget uncommitted changes of a refused request."""
    db.session.rollback()
