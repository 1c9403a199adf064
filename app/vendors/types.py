"""The normalised request, result and stream-delta types every vendor adapter speaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI sends it


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # set on role="tool"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str  # the upstream model name once routed
    messages: tuple[ChatMessage, ...]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    # "auto" | "none" | "required" | a tool name that must be called
    tool_choice: str | None = None
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Result:
    text: str
    finish_reason: FinishReason
    usage: Usage
    model: str
    tool_calls: tuple[ToolCall, ...] = ()
    id: str = ""


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    index: int
    id: str | None = None  # present on a call's first fragment
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Delta:
    """One piece of a stream; the last one carries ``finish_reason`` and ``usage``."""

    text: str = ""
    tool_call: ToolCallDelta | None = None
    finish_reason: FinishReason | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Credential:
    """What an adapter needs to reach one vendor account (plain data, decrypted)."""

    name: str
    kind: str
    api_key: str | None = field(default=None, repr=False)  # never in a log line
    base_url: str | None = None
    read_only: bool = False  # configured from the environment
    timeout: float = 120.0
    connect_timeout: float = 5.0
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)
