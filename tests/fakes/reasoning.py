"""The fake vendor's reasoning and prompt caching, in each vendor's own wire shape.

- A request for a model whose name contains ``thinking`` or ``reasoning``, or an Anthropic
  request with ``thinking`` enabled / adaptive, or an OpenAI one with ``reasoning_effort``,
  is answered with reasoning before the text: Anthropic ``thinking`` blocks signed with
  :func:`sign` (the real API's signatures are opaque; this one can be checked), OpenAI-compatible
  ``reasoning_content`` (as vLLM and DeepSeek send it).
- A thinking block sent back with a wrong signature gets the real API's 400.
- Anthropic prompt caching: the first request whose content carries ``cache_control`` writes
  its prefix (``cache_creation_input_tokens``); the same prefix again reads it
  (``cache_read_input_tokens``). OpenAI reports ``cached_tokens`` when a ``prompt_cache_key``
  comes a second time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SIGNING_KEY = b"fake-vendor-thinking"
THINKING_TEXT = "The user wants an echo. I will repeat their words."


def sign(thinking: str) -> str:
    return hmac.new(SIGNING_KEY, thinking.encode(), hashlib.sha256).hexdigest()


def wants_reasoning(body: dict, anthropic: bool) -> bool:
    model = str(body.get("model") or "")
    if "thinking" in model or "reasoning" in model:
        return True
    if anthropic:
        return (body.get("thinking") or {}).get("type") in ("enabled", "adaptive")
    return body.get("reasoning_effort") not in (None, "none")


def bad_signature(body: dict) -> str | None:
    """The error message for a thinking block sent back unsigned or altered, else None."""
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") == "thinking":
                if not hmac.compare_digest(str(block.get("signature") or ""),
                                           sign(str(block.get("thinking") or ""))):
                    return "Invalid `signature` in `thinking` block"
    return None


class PromptCache:
    """Prefixes seen with ``cache_control`` (Anthropic) or a ``prompt_cache_key`` (OpenAI)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def usage(self, body: dict, anthropic: bool, input_tokens: int) -> tuple[int, int]:
        """(cache read, cache written) tokens of this request, of its ``input_tokens``."""
        key = _cache_key(body, anthropic)
        if key is None:
            return 0, 0
        if key in self.seen:
            return input_tokens, 0
        self.seen.add(key)
        return 0, input_tokens


def _cache_key(body: dict, anthropic: bool) -> str | None:
    if not anthropic:
        key = body.get("prompt_cache_key")
        return f"openai:{key}" if isinstance(key, str) else None
    if '"cache_control"' not in json.dumps(body):
        return None
    prefix = {k: body.get(k) for k in ("model", "system", "tools")}
    return "anthropic:" + json.dumps(prefix, sort_keys=True, default=str)


def anthropic_thinking_blocks() -> list[dict[str, Any]]:
    return [{"type": "thinking", "thinking": THINKING_TEXT, "signature": sign(THINKING_TEXT)}]


def anthropic_thinking_events(index: int):
    """(event name, data, kind) of one streamed thinking block at ``index``."""
    yield "content_block_start", {"type": "content_block_start", "index": index,
                                  "content_block": {"type": "thinking", "thinking": "",
                                                    "signature": ""}}, "meta"
    for piece in THINKING_TEXT.split(" "):
        yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                      "delta": {"type": "thinking_delta",
                                                "thinking": piece + " "}}, "delta"
    yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                  "delta": {"type": "signature_delta",
                                            "signature": sign(_streamed_text())}}, "meta"
    yield "content_block_stop", {"type": "content_block_stop", "index": index}, "meta"


def _streamed_text() -> str:
    return "".join(piece + " " for piece in THINKING_TEXT.split(" "))


def openai_reasoning_pieces() -> list[str]:
    return [piece + " " for piece in THINKING_TEXT.split(" ")]
