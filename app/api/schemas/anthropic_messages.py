"""Anthropic Messages request body, validated and converted to a ``ChatRequest``.

As on Anthropic's API, ``max_tokens`` is required, unknown fields are refused, and the
sampling parameters ``temperature``/``top_p``/``top_k`` are refused from API version
2026-10-21 on (the version SDK 2.x sends) but accepted for 2023-06-01.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, model_validator

from app.api.errors import ApiError
from app.api.schemas import OpenWireModel, WireModel, unsupported
from app.vendors import ChatMessage, ChatRequest, ToolCall, ToolSpec

DEFAULT_VERSION = "2023-06-01"
NO_SAMPLING_FROM = "2026-10-21"
SAMPLING = ("temperature", "top_p", "top_k")
DROPPED_BLOCKS = ("thinking", "redacted_thinking")  # earlier reasoning: not replayed
UNSUPPORTED_BLOCKS = ("image", "document", "search_result", "container_upload")


class Block(OpenWireModel):
    """A content block; only text, tool_use and tool_result carry meaning for Parlor."""

    type: str
    text: str | None = None
    id: str | None = None
    name: str | None = None
    input: dict[str, Any] | None = None
    tool_use_id: str | None = None
    content: str | list[Block] | None = None
    is_error: bool | None = None

    @model_validator(mode="after")
    def _complete(self) -> Block:
        if self.type in UNSUPPORTED_BLOCKS:
            raise unsupported(f"Content of type {self.type!r}")
        required = {"text": ("text",), "tool_use": ("id", "name", "input"),
                    "tool_result": ("tool_use_id",)}
        if self.type not in required and self.type not in DROPPED_BLOCKS:
            raise ValueError(f"unknown content block type {self.type!r}")
        for name in required.get(self.type, ()):
            if getattr(self, name) is None:
                raise ValueError(f"a {self.type} block needs {name!r}")
        return self

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
        out = [ChatMessage(role="tool", content=b.result_text, tool_call_id=b.tool_use_id)
               for b in blocks if b.type == "tool_result"]
        text = "".join(b.text or "" for b in blocks if b.type == "text")
        calls = tuple(ToolCall(id=b.id, name=b.name, arguments=json.dumps(b.input))
                      for b in blocks if b.type == "tool_use")
        if calls and self.role != "assistant":
            raise ApiError(400, "tool_use blocks belong in assistant turns.", param="messages")
        if text or calls or not out:
            out.append(ChatMessage(role=self.role, content=text, tool_calls=calls))
        return out


class SystemBlock(OpenWireModel):
    type: Literal["text"]
    text: str


class Tool(OpenWireModel):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    input_schema: dict[str, Any]
    type: str | None = None

    @model_validator(mode="after")
    def _client_tool(self) -> Tool:
        if self.type not in (None, "custom"):
            raise unsupported(f"Server tool {self.type!r}")
        return self


class ToolChoice(WireModel):
    type: Literal["auto", "any", "none", "tool"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None

    @model_validator(mode="after")
    def _named(self) -> ToolChoice:
        if self.type == "tool" and not self.name:
            raise ValueError("tool_choice of type 'tool' needs 'name'")
        return self


class Metadata(WireModel):
    user_id: str | None = None


class Thinking(OpenWireModel):
    type: str

    @model_validator(mode="after")
    def _disabled_only(self) -> Thinking:
        if self.type != "disabled":
            raise unsupported("Extended thinking")
        return self


class MessagesRequest(WireModel):
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
    # Accepted and ignored: they do not change the answer Parlor can give.
    service_tier: str | None = None
    cache_control: dict[str, Any] | None = None
    container: Any = None
    inference_geo: str | None = None
    speed: str | None = None

    def check_version(self, version: str | None) -> None:
        """API 2026-10-21 and later refuse sampling parameters, even at their defaults."""
        if (version or DEFAULT_VERSION) < NO_SAMPLING_FROM:
            return
        for name in SAMPLING:
            if name in self.model_fields_set:
                raise ApiError(400, f"{name}: Extra inputs are not permitted", param=name)

    def to_chat_request(self) -> ChatRequest:
        system = self.system if isinstance(self.system, str) else "\n\n".join(
            block.text for block in self.system or ())
        messages = [ChatMessage(role="system", content=system)] if system else []
        for message in self.messages:
            messages.extend(message.normalised())
        choice = None
        if self.tool_choice:
            choice = {"auto": "auto", "any": "required", "none": "none"}.get(
                self.tool_choice.type, self.tool_choice.name)
        return ChatRequest(
            model=self.model,
            messages=tuple(messages),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=tuple(self.stop_sequences or ()),
            tools=tuple(ToolSpec(name=t.name, description=t.description or "",
                                 parameters=t.input_schema) for t in self.tools or ()),
            tool_choice=choice,
            user=self.metadata.user_id if self.metadata else None,
        )
