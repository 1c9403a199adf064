"""The offline ``mock`` vendor: deterministic replies, streamed word by word, with usage."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from app.vendors.base import VendorHandler
from app.vendors.errors import VendorModelNotFound
from app.vendors.types import ChatRequest, Delta, Part, Result, Usage

LOREM = (
    "Here is a **sample reply** from Parlor's offline mock vendor.\n\n"
    "- It streams word by word\n- It needs no vendor key\n\n"
    "```python\nprint('hello from mock')\n```\n\n"
    "| vendor | key needed |\n| --- | --- |\n| mock | no |\n"
)


def _count_tokens(text: str) -> int:
    return len(re.findall(r"\S+", text))


def _describe(parts: tuple[Part, ...]) -> str:
    """What a message brought besides its text, as the mock tells it back (tests read it)."""
    seen = []
    for part in parts:
        if part.type in ("image", "document"):
            size = part.source_size() if part.has_source() else len(part.text)
            seen.append(f"{part.type} {part.name or 'unnamed'} ({part.media_type or 'text'}, "
                        f"about {size} bytes)")
        elif part.type == "text" and part.text.startswith("File "):
            seen.append(f"text of {part.text.splitlines()[0].removeprefix('File ').rstrip(':')}")
    return f"Received: {'; '.join(seen)}." if seen else ""


class MockHandler(VendorHandler):
    """``echo`` repeats the last user message; ``lorem`` answers with sample Markdown."""

    def models(self) -> list[str]:
        return ["echo", "lorem"]

    def _reply(self, request: ChatRequest) -> str:
        if request.model == "echo":
            last = next((m for m in reversed(request.messages) if m.role == "user"), None)
            text = (last.content if last else "") or "(empty message)"
            received = _describe(last.parts) if last else ""
            return f"{text}\n\n{received}" if received else text
        if request.model == "lorem":
            return LOREM
        raise VendorModelNotFound(f"mock has no model {request.model!r}", vendor="mock")

    def _cut(self, request: ChatRequest, text: str) -> tuple[str, str]:
        words = re.findall(r"\S+\s*", text)
        if request.max_tokens is not None and len(words) > request.max_tokens:
            return "".join(words[: request.max_tokens]), "length"
        return text, "stop"

    def _usage(self, request: ChatRequest, text: str) -> Usage:
        prompt = sum(_count_tokens(m.content) for m in request.messages)
        return Usage(input_tokens=prompt, output_tokens=_count_tokens(text))

    def complete(self, request: ChatRequest) -> Result:
        text, finish = self._cut(request, self._reply(request))
        return Result(text=text, finish_reason=finish, usage=self._usage(request, text),
                      model=request.model)

    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        text, finish = self._cut(request, self._reply(request))
        delay = self.credential.option("delay_ms", 0) / 1000
        for word in re.findall(r"\s*\S+\s*", text):
            if delay:
                time.sleep(delay)
            yield Delta(text=word)
        yield Delta(finish_reason=finish, usage=self._usage(request, text))
