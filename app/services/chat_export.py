"""A conversation as a Markdown document (the branch shown, as it reads) or a JSON one (the
whole tree: every message with its parent's id, and the current leaf) for download."""

from __future__ import annotations

import json
import re

from app.models import Conversation, Message

ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System"}


def filename(conversation: Conversation, extension: str) -> str:
    """A safe file name from the title (ASCII, no path separators)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", conversation.title).strip("-.")[:60] or "conversation"
    return f"{stem}.{extension}"


def to_markdown(conversation: Conversation, messages: list[Message]) -> str:
    lines = [f"# {conversation.title}", "", f"Model: `{conversation.model}`", ""]
    if conversation.system_prompt:
        lines += ["## System", "", conversation.system_prompt, ""]
    for message in messages:
        heading = ROLE_NAMES.get(message.role, message.role)
        if message.role == "assistant" and message.model:
            heading += f" ({message.model})"
        if message.status not in ("complete", "pending", "streaming"):
            heading += f" — {message.status}"
        lines += [f"## {heading}", "", message.content or message.error or "", ""]
    return "\n".join(lines)


def to_json(conversation: Conversation, messages: list[Message]) -> str:
    document = {
        "id": conversation.id,
        "title": conversation.title,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "options": conversation.options or {},
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "current_leaf_id": conversation.current_leaf_id,
        "messages": [
            {
                "id": m.id,
                "parent_id": m.parent_id,
                "role": m.role,
                "content": m.content,
                "status": m.status,
                "model": m.model,
                "error": m.error,
                "input_tokens": m.input_tokens,
                "output_tokens": m.output_tokens,
                "created_at": m.created_at.isoformat(),
            }
            for m in messages
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
