"""Anthropic Messages request body, validated and converted to a ``ChatRequest``.

As on Anthropic's API, ``max_tokens`` is required and the sampling parameters
``temperature``/``top_p``/``top_k`` are refused from API version 2026-10-21 on (the version SDK
2.x sends) but accepted for 2023-06-01. The field policy (README, "JSON API"): what Parlor
interprets (messages and their blocks, system, tools, thinking, ``output_config``...) is
translated for any vendor; every other field (``context_management``, ``service_tier``,
``container``, fields still to come) and block (server tool results, search results) is kept
as it came: forwarded unchanged to Anthropic vendors, dropped and named in
``x-parlor-dropped`` for the others.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from app.api.errors import ApiError
from app.api.schemas import OpenWireModel, WireModel
from app.vendors import ChatMessage, ChatRequest, OutputFormat, Part, Reasoning, ToolCall, ToolSpec

DEFAULT_VERSION = "2023-06-01"
NO_SAMPLING_FROM = "2026-10-21"
SAMPLING = ("temperature", "top_p", "top_k")
INTERPRETED = frozenset({
    "model", "max_tokens", "messages", "system", "stop_sequences", "stream", "temperature",
    "top_p", "top_k", "tools", "tool_choice", "metadata", "thinking", "output_config"})
FORWARDED_HEADERS = ("anthropic-beta", "anthropic-version")
# The blocks Parlor reads, and the fields each needs; any other kind is forwarded as sent.
REQUIRED = {"text": ("text",), "tool_use": ("id", "name", "input"),
            "tool_result": ("tool_use_id",), "image": ("source",), "document": ("source",),
            "thinking": ("thinking",), "redacted_thinking": ("data",)}


class Source(OpenWireModel):
    type: str
    media_type: str | None = None
    data: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Source:
        needs = {"base64": ("media_type", "data"), "url": ("url",), "text": ("data",)}
        for name in needs.get(self.type, ()):
            if getattr(self, name) is None:
                raise ValueError(f"a {self.type} source needs {name!r}")
        return self


class Block(OpenWireModel):
    """A content block: text, images, documents, tools and thinking carry meaning for Parlor;
    any other kind is forwarded to Anthropic vendors as it came."""

    _part: Part | None = PrivateAttr(default=None)
    type: str
    text: str | None = None
    id: str | None = None
    name: str | None = None
    input: dict[str, Any] | None = None
    tool_use_id: str | None = None
    content: str | list[Block] | None = None
    is_error: bool | None = None
    source: Source | None = None
    title: str | None = None
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None
    cache_control: dict[str, Any] | None = None
    as_sent: dict[str, Any] | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _keep_as_sent(cls, data: Any) -> Any:
        """A block of a kind Parlor does not read (search results, server tool results...)
        is kept exactly as sent, whatever its fields look like. So are images, documents and
        text with more than its text (citations): Anthropic vendors get them unchanged, others
        the part Parlor reads from them."""
        if not isinstance(data, dict):
            return data
        if not isinstance(data.get("type"), str):
            raise ValueError("a content block needs a 'type'")
        if data["type"] not in REQUIRED:
            return {"type": data["type"], "as_sent": data}
        if data["type"] in ("image", "document") or (
                data["type"] == "text" and set(data) - {"type", "text", "cache_control"}):
            return {**data, "as_sent": data}  # also for citations, context, titles...
        return data

    @model_validator(mode="after")
    def _complete(self) -> Block:
        for name in REQUIRED.get(self.type, ()):
            if getattr(self, name) is None:
                raise ValueError(f"a {self.type} block needs {name!r}")
        self._part = self._normalise()
        return self

    def _normalise(self) -> Part | None:
        cache = self.cache_control
        if self.type == "text":
            return Part("text", text=self.text or "", cache_control=cache, native=self.as_sent)
        if self.type in ("image", "document"):
            source = self.source
            if source.type not in ("base64", "url", "text"):  # file ids, content sources
                return Part("native", native=self.as_sent)
            return Part(self.type, media_type=source.media_type,
                        data=source.data if source.type == "base64" else None,
                        text=source.data if source.type == "text" else "",
                        url=source.url, name=self.title, cache_control=cache,
                        native=self.as_sent)
        if self.type == "thinking":
            return Part("thinking", text=self.thinking or "", signature=self.signature)
        if self.type == "redacted_thinking":
            return Part("redacted_thinking", data=self.data)
        if self.type in ("tool_use", "tool_result"):
            return None  # turned into tool calls and tool messages by Message
        return Part("native", native=self.as_sent)

    @property
    def part(self) -> Part | None:
        return self._part

    @property
    def result_parts(self) -> tuple[Part, ...]:
        if isinstance(self.content, list):
            return tuple(b.part for b in self.content if b.part is not None)
        return ()

    @property
    def result_text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(block.text or "" for block in self.content if block.type == "text")
        return self.content or ""


class Message(WireModel):
    role: Literal["user", "assistant", "system"]
    content: str | list[Block]

    def normalised(self) -> list[ChatMessage]:
        """One Anthropic turn as normalised messages: tool results first, then the turn."""
        if isinstance(self.content, str):
            return [ChatMessage(role=self.role, content=self.content)]
        blocks = self.content
        out = [ChatMessage(role="tool", content=b.result_text, tool_call_id=b.tool_use_id,
                           parts=_rich(b.result_parts), cache_control=b.cache_control,
                           is_error=b.is_error)
               for b in blocks if b.type == "tool_result"]
        parts = tuple(b.part for b in blocks if b.part is not None)
        text = "".join(p.text for p in parts if p.type == "text")
        calls = tuple(ToolCall(id=b.id, name=b.name, arguments=json.dumps(b.input))
                      for b in blocks if b.type == "tool_use")
        if calls and self.role != "assistant":
            raise ApiError(400, "tool_use blocks belong in assistant turns.", param="messages")
        if parts or calls or not out:
            out.append(ChatMessage(role=self.role, content=text, tool_calls=calls,
                                   parts=_rich(parts)))
        return out


def _rich(parts: tuple[Part, ...]) -> tuple[Part, ...]:
    """The parts, unless plain uncached text says it all (adapters then send ``content``)."""
    plain = all(p.type == "text" and not p.cache_control and not p.native for p in parts)
    return () if plain else parts


class SystemBlock(OpenWireModel):
    type: Literal["text"]
    text: str
    cache_control: dict[str, Any] | None = None


class Tool(OpenWireModel):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    type: str | None = None
    strict: bool | None = None
    cache_control: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _client_tool_has_schema(self) -> Tool:
        if self.type in (None, "custom") and self.input_schema is None:
            raise ValueError("a tool needs 'input_schema'")
        return self

    def normalised(self) -> ToolSpec:
        if self.type not in (None, "custom"):  # a server tool (web search...): Anthropic's own
            return ToolSpec(name=self.name, native=self.model_dump(exclude_none=True))
        return ToolSpec(name=self.name, description=self.description or "",
                        parameters=self.input_schema, strict=self.strict,
                        cache_control=self.cache_control, native_extra=self.model_extra or {})


class ToolChoice(WireModel):
    type: Literal["auto", "any", "none", "tool"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None

    @model_validator(mode="after")
    def _named(self) -> ToolChoice:
        if self.type == "tool" and not self.name:
            raise ValueError("tool_choice of type 'tool' needs 'name'")
        return self


class Metadata(OpenWireModel):
    user_id: str | None = None


class Thinking(OpenWireModel):
    type: Literal["enabled", "adaptive", "disabled"]
    budget_tokens: int | None = Field(default=None, ge=1)
    display: str | None = None

    @model_validator(mode="after")
    def _budget_when_enabled(self) -> Thinking:
        if self.type == "enabled" and self.budget_tokens is None:
            raise ValueError("thinking of type 'enabled' needs 'budget_tokens'")
        return self


class OutputFormatIn(OpenWireModel):
    type: Literal["json_schema"]
    schema_: dict[str, Any] = Field(alias="schema")


class OutputConfig(OpenWireModel):
    effort: str | None = None
    format: OutputFormatIn | None = None


class MessagesRequest(OpenWireModel):
    model: str = Field(min_length=1)
    max_tokens: int = Field(ge=1)
    messages: list[Message] = Field(min_length=1)
    system: str | list[SystemBlock] | None = None
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    metadata: Metadata | None = None
    thinking: Thinking | None = None
    output_config: OutputConfig | None = None

    def check_version(self, version: str | None) -> None:
        """API 2026-10-21 and later refuse sampling parameters, even at their defaults."""
        if (version or DEFAULT_VERSION) < NO_SAMPLING_FROM:
            return
        for name in SAMPLING:
            if name in self.model_fields_set:
                raise ApiError(400, f"{name}: Extra inputs are not permitted", param=name)

    def _system_message(self) -> ChatMessage | None:
        if isinstance(self.system, str):
            return ChatMessage(role="system", content=self.system) if self.system else None
        blocks = self.system or ()
        parts = tuple(Part("text", text=b.text, cache_control=b.cache_control) for b in blocks)
        text = "\n\n".join(b.text for b in blocks)
        return ChatMessage(role="system", content=text, parts=_rich(parts)) if text else None

    def _reasoning(self) -> Reasoning | None:
        effort = self.output_config.effort if self.output_config else None
        if self.thinking is None:
            return Reasoning(effort=effort) if effort else None
        return Reasoning(effort=effort, mode=self.thinking.type,
                         budget_tokens=self.thinking.budget_tokens, display=self.thinking.display)

    def native_fields(self, body: dict) -> dict[str, Any]:
        """The body's fields Parlor does not interpret, as the client sent them (and the
        metadata and output_config fields beside the ones it reads)."""
        fields = {name: value for name, value in body.items() if name not in INTERPRETED}
        for name, known in (("metadata", {"user_id"}), ("output_config", {"effort", "format"})):
            value = body.get(name)
            if isinstance(value, dict) and set(value) - known:
                fields[name] = {k: v for k, v in value.items() if k not in known}
        return fields

    def to_chat_request(self, body: dict | None = None,
                        headers: dict[str, str] | None = None) -> ChatRequest:
        """The normalised request; ``body`` (the raw JSON) supplies the native fields and
        ``headers`` the ones forwarded to Anthropic vendors."""
        system = self._system_message()
        messages = [system] if system else []
        for message in self.messages:
            messages.extend(message.normalised())
        choice = None
        if self.tool_choice:
            choice = {"auto": "auto", "any": "required", "none": "none"}.get(
                self.tool_choice.type, self.tool_choice.name)
        parallel = (False if self.tool_choice and self.tool_choice.disable_parallel_tool_use
                    else None)
        output = self.output_config.format if self.output_config else None
        return ChatRequest(
            model=self.model,
            messages=tuple(messages),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=tuple(self.stop_sequences or ()),
            tools=tuple(t.normalised() for t in self.tools or ()),
            tool_choice=choice,
            user=self.metadata.user_id if self.metadata else None,
            parallel_tool_calls=parallel,
            reasoning=self._reasoning(),
            output_format=OutputFormat("json_schema", schema=output.schema_) if output else None,
            native_format="anthropic",
            native_fields=self.native_fields(body or {}),
            native_headers={k: v for k, v in (headers or {}).items()
                            if k in FORWARDED_HEADERS and v},
        )


class CountTokensRequest(MessagesRequest):
    """``POST /v1/messages/count_tokens``: a Messages body without ``max_tokens``."""

    max_tokens: int | None = Field(default=None, ge=1)
