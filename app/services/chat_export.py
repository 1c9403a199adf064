"""A conversation as a Markdown document (the branch shown, as it reads) or a JSON one (the
whole tree: every message with its parent's id, and the current leaf) for download."""

from __future__ import annotations

import base64
import json
import re

from app.models import Conversation, Message
from app.services import attachments

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
        lines += [f"## {heading}", ""]
        lines += [f"- Attachment: {a.name} ({a.media_type}, {a.size} bytes)"
                  for a in message.attachments] + ([""] if message.attachments else [])
        lines += [message.content or message.error or "", ""]
    return "\n".join(lines)


def _attachment(attachment, embed: bool) -> dict:
    entry = {"id": attachment.id, "name": attachment.name, "type": attachment.media_type,
             "size": attachment.size}
    if embed:
        entry["data"] = base64.b64encode(attachments.content(attachment)).decode("ascii")
    return entry


def to_json(conversation: Conversation, messages: list[Message],
            embed_attachments: bool = True) -> str:
    """The whole conversation; each message's attachments embedded (base64 ``data``) or,
    with ``embed_attachments`` false, only listed."""
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
                "attachments": [_attachment(a, embed_attachments) for a in m.attachments],
            }
            for m in messages
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
