"""The normalised request, result and stream-delta types every vendor adapter speaks."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]
WireFormat = Literal["openai", "anthropic"]
PartType = Literal["text", "image", "document", "thinking", "redacted_thinking", "native"]
Effort = Literal["minimal", "low", "medium", "high", "xhigh"]
# Reasoning effort <-> thinking budget (tokens), both ways (README, wire-protocols notes).
BUDGET_FOR_EFFORT: dict[str, int] = {
    "minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 32000}


def budget_for_effort(effort: str) -> int:
    """The Anthropic thinking budget that stands for an OpenAI reasoning effort."""
    return BUDGET_FOR_EFFORT.get(effort, BUDGET_FOR_EFFORT["medium"])


def effort_for_budget(budget_tokens: int) -> str:
    """The OpenAI reasoning effort closest to an Anthropic thinking budget (rounded down)."""
    effort = "minimal"
    for name, budget in BUDGET_FOR_EFFORT.items():
        if budget_tokens >= budget:
            effort = name
    return effort


class Blob:
    """Binary content held once, as raw bytes (a stored attachment): adapters send it base64
    encoded a piece at a time as the request body is written (``app/vendors/streamed_body.py``),
    never as one base64 string. ``digest`` names the content (the response cache's key, a log
    line): it is what ``str()`` gives, never the bytes."""

    __slots__ = ("content", "digest")

    def __init__(self, content: bytes | bytearray, digest: str):
        self.content = content
        self.digest = digest

    def __len__(self) -> int:
        return len(self.content)

    def __str__(self) -> str:
        return f"sha256:{self.digest}"

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Blob) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __deepcopy__(self, memo) -> Blob:  # immutable: dataclasses.asdict keeps this one
        return self


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of a message's content, in the order the client sent them.

    ``text``: a text part's text, a thinking part's reasoning, a text document's content.
    ``media_type`` with ``data`` (base64 text, as a client sent it), ``blob`` (raw bytes, as
    stored: an attachment) or ``url``: an image or document source (Parlor never fetches a URL
    itself; it goes to vendors that take URL sources). Read a source with :meth:`has_source`,
    :meth:`raw` and :meth:`base64`, which take either form. ``signature``: a thinking
    block's, sent back unchanged. ``cache_control``: Anthropic's prompt-caching mark, kept for
    Anthropic vendors. ``native``: a block Parlor does not interpret, in the request's
    ``native_format`` wire shape, forwarded unchanged to vendors of that format and dropped
    (and named in ``x-parlor-dropped``) for others. On a part Parlor reads (an image, a
    document, text with citations) ``native`` is the block as the client sent it, which
    vendors of that format get instead, unchanged.
    """

    type: PartType
    text: str = ""
    media_type: str | None = None
    data: str | None = field(default=None, repr=False)
    url: str | None = None
    name: str | None = None  # a document's file name or title
    signature: str | None = field(default=None, repr=False)
    cache_control: Mapping[str, Any] | None = None
    native: Mapping[str, Any] | None = field(default=None, repr=False)
    blob: Blob | None = field(default=None, repr=False)

    def has_source(self) -> bool:
        """Whether the part carries its content (base64 text or raw bytes)."""
        return bool(self.data) or bool(self.blob)

    def raw(self) -> bytes:
        """The source's bytes (decoded from base64 text when a client sent it so)."""
        if self.blob is not None:
            content = self.blob.content
            return content if isinstance(content, bytes) else bytes(content)
        return base64.b64decode(self.data) if self.data else b""

    def base64(self) -> str:
        """The source as base64 text (encoded here when it is held as bytes: a copy; adapters
        that send JSON stream it instead, see ``app/vendors/streamed_body.py``)."""
        if self.blob is not None:
            return base64.b64encode(self.blob.content).decode("ascii")
        return self.data or ""

    def source_size(self) -> int:
        """About how many bytes the source holds."""
        if self.blob is not None:
            return len(self.blob)
        return len(self.data) * 3 // 4 if self.data else 0


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
    strict: bool | None = None
    cache_control: Mapping[str, Any] | None = None
    # A tool Parlor does not interpret (a vendor-hosted one such as web search), in the
    # request's native_format: forwarded to vendors of that format, dropped for others.
    native: Mapping[str, Any] | None = None
    # A client tool's own fields Parlor does not interpret (defer_loading, input_examples):
    # forwarded to vendors of the request's native_format only.
    native_extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A turn. ``content`` is always its plain text; ``parts``, when set, is the whole content
    in order (text, images, documents, earlier thinking) and adapters send that instead."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # set on role="tool"
    parts: tuple[Part, ...] = ()
    cache_control: Mapping[str, Any] | None = None  # on a tool result block
    is_error: bool | None = None  # a tool result that reports a failure


@dataclass(frozen=True, slots=True)
class Reasoning:
    """How much the model should think before answering.

    OpenAI clients give an ``effort``; Anthropic clients a ``mode`` (``enabled`` with
    ``budget_tokens``, ``adaptive``, ``disabled``) and a ``display``. Adapters translate with
    :func:`budget_for_effort` / :func:`effort_for_budget`.
    """

    effort: str | None = None
    mode: Literal["enabled", "adaptive", "disabled"] | None = None
    budget_tokens: int | None = None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """Structured output: any JSON object, or one matching ``schema``."""

    type: Literal["json_object", "json_schema"]
    schema: Mapping[str, Any] | None = None
    name: str = "response"
    strict: bool | None = None
    description: str | None = None


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
    parallel_tool_calls: bool | None = None
    reasoning: Reasoning | None = None
    output_format: OutputFormat | None = None
    # The wire format the client spoke, and its fields Parlor does not interpret
    # (context_management, service_tier, store...): forwarded unchanged to a vendor of the
    # same format, dropped and named in x-parlor-dropped for any other.
    native_format: WireFormat | None = None
    native_fields: Mapping[str, Any] = field(default_factory=dict)
    # Headers forwarded to a vendor of native_format (anthropic-beta, anthropic-version).
    native_headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one call. ``input_tokens`` counts every input token, cached ones included;
    ``cache_read_tokens`` / ``cache_write_tokens`` say how many of them were read from or
    written to the vendor's prompt cache (priced at their own rates)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0  # part of output_tokens

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
    # The model's reasoning, before the text: thinking parts (text + signature) and
    # redacted_thinking parts (data), to be sent back unchanged on the next turn.
    thinking: tuple[Part, ...] = ()
    cached: bool = False  # answered from the response cache (vendors/response_cache.py)


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
    # Reasoning as it streams: thinking text, then the block's signature once it is whole;
    # a redacted_thinking block arrives whole, as its data.
    thinking: str = ""
    signature: str = ""
    redacted_thinking: str = ""


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


def dropped_fields(request: ChatRequest, target: WireFormat | None) -> list[str]:
    """What a vendor speaking ``target`` does not get of the client's request: its native
    fields, blocks and hosted tools when the formats differ (named in ``x-parlor-dropped``)."""
    if request.native_format is None or request.native_format == target:
        return []
    names = list(request.native_fields)
    for message in request.messages:
        for part in message.parts:
            if part.type == "native" and part.native is not None:
                name = str(part.native.get("type") or "block")
                if name not in names:
                    names.append(name)
    names.extend(tool.name for tool in request.tools if tool.native is not None)
    return names
