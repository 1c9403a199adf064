"""The fake vendor's Anthropic-only behaviours (reasoning and caching: tests/fakes/reasoning.py).

- ``POST /v1/messages/count_tokens`` answers ``{"input_tokens": N}``: one token a word of the
  system prompt, the messages' text and the tools' names and descriptions, plus 3 for the turn.
- A model whose name contains ``redacted`` answers with a ``redacted_thinking`` block after its
  thinking block (plain and streamed). A redacted_thinking block sent back must carry data this
  fake issued (:data:`REDACTED_DATA`), as the real API decrypts it: otherwise the API's 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

REDACTED_DATA = ("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2Y"
                 "fWXGmKDxH4mPnZ5sQ7vB5URj")


def count_tokens(body: dict) -> dict[str, int]:
    """The answer of ``/v1/messages/count_tokens`` for a Messages body."""
    texts = list(_texts(body.get("system"))) + list(_texts(body.get("messages")))
    for tool in body.get("tools") or ():
        if isinstance(tool, dict):
            texts += [str(tool.get("name") or ""), str(tool.get("description") or "")]
    return {"input_tokens": sum(len(text.split()) for text in texts) + 3}


def _texts(value: Any) -> Iterator[str]:
    """Every text in a system prompt or message list (strings, text blocks, tool results)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        if value.get("type") == "text":
            yield str(value.get("text") or "")
        else:
            yield from _texts(value.get("content"))


def redacted_blocks(model: str) -> list[dict]:
    """The redacted_thinking blocks a model answers with (none unless it is ``*redacted*``)."""
    return [{"type": "redacted_thinking", "data": REDACTED_DATA}] if "redacted" in model else []


def block_events(block: dict, index: int):
    """(event name, data, kind) of a block streamed whole, as redacted_thinking is."""
    yield "content_block_start", {"type": "content_block_start", "index": index,
                                  "content_block": block}, "meta"
    yield "content_block_stop", {"type": "content_block_stop", "index": index}, "meta"


def bad_redacted(body: dict) -> str | None:
    """The error message for a redacted_thinking block this fake did not issue, else None."""
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if (isinstance(block, dict) and block.get("type") == "redacted_thinking"
                    and block.get("data") != REDACTED_DATA):
                return "Invalid `data` in `redacted_thinking` block"
    return None
