"""Chat: conversations, sending a message and storing the model's reply."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from app.extensions import db
from app.models import Conversation, Message, MessageStatus, User
from app.repositories import conversations as repo
from app.services import usage
from app.services.vendors import vendor_manager
from app.vendors import ChatMessage, ChatRequest, ModelInfo, UnknownModelError, Usage, VendorError
from app.vendors import errors as vendor_errors

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 100_000
MAX_SYSTEM_PROMPT_CHARS = 20_000
NEW_TITLE = "New chat"

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


def available_models(user: User) -> list[ModelInfo]:
    return vendor_manager().models(user.role.name)


def start_conversation(user: User, model: str, system_prompt: str = "") -> Conversation:
    try:
        vendor_manager().routes_for(model, user.role.name)
    except UnknownModelError as exc:
        raise ChatError(str(exc)) from None
    if len(system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
        raise ChatError(f"The system prompt is limited to {MAX_SYSTEM_PROMPT_CHARS} characters.")
    conversation = Conversation(user_id=user.id, model=model, system_prompt=system_prompt.strip(),
                                title=NEW_TITLE)
    repo.add(conversation)
    db.session.commit()
    return conversation


def send_message(user: User, conversation: Conversation, text: str) -> Message:
    """Store the user's message, ask the model and store its reply (an error reply on failure)."""
    text = (text or "").strip()
    if not text:
        raise ChatError("Type a message first.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ChatError(f"Messages are limited to {MAX_MESSAGE_CHARS} characters.")
    now = datetime.now(UTC)
    repo.add(Message(conversation_id=conversation.id, seq=repo.next_seq(conversation.id),
                     role="user", content=text, created_at=now))
    if conversation.title == NEW_TITLE:
        conversation.title = _title_from(text)
    conversation.updated_at = now
    db.session.commit()  # the user's words are safe before the vendor is called
    return reply(user, conversation)


def reply(user: User, conversation: Conversation) -> Message:
    request = ChatRequest(model=conversation.model, messages=tuple(history(conversation)))
    reply = Message(conversation_id=conversation.id, role="assistant", model=conversation.model)
    route, spent = None, Usage()
    started = time.monotonic()
    try:
        result, route = vendor_manager().complete(conversation.model, request, user.role.name)
    except (VendorError, UnknownModelError) as exc:
        log.warning("reply in conversation %s failed: %s", conversation.id, exc)
        reply.status, reply.error = MessageStatus.ERROR, describe_error(exc)
    else:
        reply.content, reply.status, spent = result.text, MessageStatus.COMPLETE, result.usage
        reply.input_tokens, reply.output_tokens = spent.input_tokens, spent.output_tokens
    reply.latency_ms = int((time.monotonic() - started) * 1000)
    reply.seq = repo.next_seq(conversation.id)
    repo.add(reply)
    usage.record(user_id=user.id, model=conversation.model, route=route, usage=spent,
                 latency_ms=reply.latency_ms, status=reply.status, source="web")
    conversation.updated_at = datetime.now(UTC)
    db.session.commit()
    return reply


def history(conversation: Conversation) -> list[ChatMessage]:
    """The conversation as the model sees it: system prompt, then the kept turns."""
    turns = [ChatMessage(role="system", content=conversation.system_prompt)] \
        if conversation.system_prompt else []
    for message in repo.messages(conversation.id):
        if message.status == MessageStatus.ERROR or not message.content:
            continue
        turns.append(ChatMessage(role=message.role, content=message.content))
    return turns


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:57].rstrip() + "…"


def delete_conversation(conversation: Conversation) -> None:
    repo.delete(conversation)
    db.session.commit()
