"""Automatic titles: after a conversation's first reply, a small model (``PARLOR_TITLE_MODEL``)
names it, on a thread of its own so the reply is never delayed. Unset, the title stays the
first words of the first message (set when it was sent). A title the user gave (renamed, or
named when created) is never overwritten.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app

from app.extensions import db
from app.models import Message, MessageStatus
from app.repositories import conversations as repo
from app.services import usage
from app.services.vendors import vendor_manager
from app.vendors import ChatMessage, ChatRequest

log = logging.getLogger(__name__)

INSTRUCTIONS = ("Write a title of at most six words for the conversation below. Answer with "
                "the title alone: no quotes, no final period.")
EXCERPT_CHARS = 2_000  # of the first message and of the reply: enough to name them
TITLE_TOKENS = 30
MAX_TITLE_CHARS = 80


def reply_stored(message_id: str) -> threading.Thread | None:
    """Name the conversation of this just-stored reply if it is its first reply, off the
    request (the thread is returned); nothing when no title model is configured."""
    model = current_app.config.get("PARLOR_TITLE_MODEL")
    if not model:
        return None
    reply = db.session.get(Message, message_id)
    if reply is None or reply.status != MessageStatus.COMPLETE:
        return None
    conversation = reply.conversation
    prompt = db.session.get(Message, reply.parent_id) if reply.parent_id else None
    if conversation.title_renamed or prompt is None or prompt.parent_id is not None \
            or repo.finished_replies(conversation.id) != 1:
        return None
    thread = threading.Thread(
        target=_write_title, name="parlor-title", daemon=True,
        args=(current_app._get_current_object(), model, conversation.id, conversation.user_id,
              prompt.content, reply.content))
    thread.start()
    return thread


def _write_title(app: Flask, model: str, conversation_id: str, user_id: int, prompt: str,
                 answer: str) -> None:
    with app.app_context():
        request = ChatRequest(model=model, max_tokens=TITLE_TOKENS, messages=(
            ChatMessage(role="system", content=INSTRUCTIONS),
            ChatMessage(role="user", content=f"User: {prompt[:EXCERPT_CHARS]}\n\n"
                                             f"Assistant: {answer[:EXCERPT_CHARS]}")))
        started = time.monotonic()
        try:
            result, route = vendor_manager().complete(model, request, None)
        except Exception as exc:  # the first words stay the title
            log.warning("no title for conversation %s: %s", conversation_id, exc)
            return
        try:
            title = clean_title(result.text)
            if title:
                repo.set_automatic_title(conversation_id, title)
            usage.record(user_id=user_id, model=model, route=route, usage=result.usage,
                         latency_ms=int((time.monotonic() - started) * 1000),
                         status=MessageStatus.COMPLETE, source="web")
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("could not store the title of conversation %s", conversation_id)


def clean_title(text: str) -> str:
    """The model's answer as a title: one line, no quotes or final period, not too long."""
    line = " ".join((text or "").split()).strip("\"'“”‘’«»").rstrip(".").strip()
    line = line.removeprefix("Title:").strip()
    return line if len(line) <= MAX_TITLE_CHARS else line[:MAX_TITLE_CHARS - 1].rstrip() + "…"
