"""Responses API input items (messages, function and custom tool calls and their outputs,
reasoning items sent back) as ``ChatMessage`` turns, and the query of
``GET /v1/responses/{id}/input_items`` (``client.responses.input_items.list``)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Literal

from pydantic import Field, TypeAdapter, model_validator

from app.api.errors import ApiError
from app.api.schemas import OpenWireModel, unsupported
from app.vendors import ChatMessage, Part, ToolCall

TEXT_PARTS = ("input_text", "output_text", "text", "reasoning_text", "summary_text")
MEDIA_PARTS = ("input_image", "input_file")
CUSTOM_INPUT = "input"  # a custom tool's one string argument, as a function tool's
# A reasoning item's encrypted_content for an Anthropic redacted_thinking block (a thinking
# block's is its signature as is): opaque to clients, read back when the item returns.
REDACTED_PREFIX = "redacted_thinking:"


def flat_name(namespace: str | None, name: str) -> str:
    """A namespaced tool's name as vendors see it (``crm`` + ``lookup`` -> ``crm__lookup``;
    a namespace already ending in ``_``, like Codex's ``mcp__docs__``, is joined as is)."""
    if not namespace:
        return name
    return namespace + name if namespace.endswith("_") else f"{namespace}__{name}"


class ResponsesInputPart(OpenWireModel):
    type: str
    text: str | None = None
    refusal: str | None = None
    image_url: str | None = None
    file_id: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None

    @model_validator(mode="after")
    def _known(self) -> ResponsesInputPart:
        if self.type in TEXT_PARTS and self.text is None:
            raise ValueError(f"an {self.type} part needs 'text'")
        if self.type == "refusal":
            self.text = self.refusal or ""
        elif self.type not in TEXT_PARTS + MEDIA_PARTS:
            raise ValueError(f"unknown content part type {self.type!r}")
        if self.type in MEDIA_PARTS and self.file_id:
            raise unsupported("File ids (upload the file's data instead)")
        if self.type == "input_image" and not self.image_url:
            raise ValueError("an input_image part needs 'image_url'")
        if self.type == "input_file" and not (self.file_data or self.file_url):
            raise ValueError("an input_file part needs 'file_data' or 'file_url'")
        return self

    def normalised(self) -> Part:
        if self.type == "input_image":
            return _media_part("image", self.image_url or "", None)
        if self.type == "input_file":
            return _media_part("document", self.file_data or self.file_url or "", self.filename)
        return Part(type="text", text=self.text or "")


def _media_part(kind: Literal["image", "document"], source: str, name: str | None) -> Part:
    """A data URL becomes base64 data with its media type; any other URL is passed on (Parlor
    never fetches it)."""
    if source.startswith("data:"):
        header, _, data = source[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if encoding != "base64" or not data:
            raise ApiError(400, "A data URL must be base64: data:<media type>;base64,<data>.",
                           param="input")
        return Part(type=kind, media_type=media_type or None, data=data, name=name)
    if not source.startswith(("https://", "http://")):
        raise ApiError(400, "Images and files take a data: or http(s) URL.", param="input")
    return Part(type=kind, url=source, name=name)


Content = str | list[ResponsesInputPart]


def _text(content: Content | None) -> str:
    if isinstance(content, list):
        return "".join(part.text or "" for part in content if part.type not in MEDIA_PARTS)
    return content or ""


def _parts(content: Content | None) -> tuple[Part, ...]:
    """The content in order, only when it holds more than text (adapters send parts then)."""
    if not isinstance(content, list) or all(p.type not in MEDIA_PARTS for p in content):
        return ()
    return tuple(part.normalised() for part in content)


class ResponsesInputItem(OpenWireModel):
    """A message, a function or custom tool call or its output, or an earlier reasoning item
    (thinking for Anthropic vendors, which takes it back with its signature)."""

    type: str | None = None
    role: Literal["user", "assistant", "system", "developer"] | None = None
    content: Content | None = None
    call_id: str | None = None
    name: str | None = None
    namespace: str | None = None
    arguments: str | None = None
    input: str | None = None  # a custom tool call's
    output: Content | None = None
    summary: list[ResponsesInputPart] | None = None  # a reasoning item's
    encrypted_content: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> ResponsesInputItem:
        if self.type is None and self.role is not None:
            self.type = "message"
        required = {"message": ("role", "content"), "function_call": ("call_id", "name"),
                    "function_call_output": ("call_id", "output"),
                    "custom_tool_call": ("call_id", "name", "input"),
                    "custom_tool_call_output": ("call_id", "output"), "reasoning": ()}
        if self.type not in required:
            if self.type == "item_reference":
                raise unsupported("Input items of type 'item_reference' (send the item itself, "
                                  "or use previous_response_id)")
            raise ValueError(f"unsupported input item type {self.type!r}")
        for name in required[self.type]:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.type} item needs {name!r}")
        return self

    def add_to(self, messages: list[ChatMessage]) -> None:
        """Append this item to ``messages``: reasoning, then the assistant's text and tool
        calls, join one assistant turn, as chat formats hold them."""
        last = messages[-1] if messages else None
        if self.type == "reasoning":
            thinking = self.thinking_part()
            if last is not None and thinking_only(last):
                messages[-1] = replace(last, parts=(*last.parts, thinking))
            else:
                messages.append(ChatMessage(role="assistant", parts=(thinking,)))
        elif self.type == "message":
            role = "system" if self.role in ("system", "developer") else self.role
            message = ChatMessage(role=role, content=_text(self.content),
                                  parts=_parts(self.content))
            if role == "assistant" and last is not None and thinking_only(last):
                text = message.parts or ((Part(type="text", text=message.content),)
                                         if message.content else ())
                message = replace(message, parts=(*last.parts, *text))
                messages.pop()
            messages.append(message)
        elif self.type in ("function_call", "custom_tool_call"):
            call = ToolCall(id=self.call_id, name=flat_name(self.namespace, self.name),
                            arguments=(self.arguments or "") if self.type == "function_call"
                            else json.dumps({CUSTOM_INPUT: self.input}))
            if last is not None and last.role == "assistant":
                messages[-1] = replace(last, tool_calls=(*last.tool_calls, call))
            else:
                messages.append(ChatMessage(role="assistant", tool_calls=(call,)))
        elif self.type in ("function_call_output", "custom_tool_call_output"):
            messages.append(ChatMessage(role="tool", tool_call_id=self.call_id,
                                        content=_text(self.output), parts=_parts(self.output)))

    def thinking_part(self) -> Part:
        """A reasoning item as a thinking part: its summary (or reasoning text) with the
        signature kept in encrypted_content; a redacted block's data as it came."""
        secret = self.encrypted_content
        if secret and secret.startswith(REDACTED_PREFIX):
            return Part(type="redacted_thinking", data=secret.removeprefix(REDACTED_PREFIX))
        parts = self.summary or (self.content if isinstance(self.content, list) else [])
        return Part(type="thinking", text="".join(p.text or "" for p in parts),
                    signature=secret or None)


def thinking_only(message: ChatMessage) -> bool:
    """An assistant turn holding earlier reasoning alone, waiting for its text or calls."""
    return (message.role == "assistant" and not message.content and not message.tool_calls
            and bool(message.parts)
            and all(p.type in ("thinking", "redacted_thinking") for p in message.parts))


ITEMS = TypeAdapter(list[ResponsesInputItem])


class InputItemsQuery(OpenWireModel):
    """``include`` and other hints are accepted and ignored (Parlor lists what it stored)."""

    after: str | None = Field(None, description="An item id: list the items after it")
    limit: int = Field(20, ge=1, le=100, description="Items a page, 1 to 100")
    order: Literal["asc", "desc"] = Field(
        "desc", description="`desc` (the default): the last input item first")
