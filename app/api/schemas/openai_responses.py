"""OpenAI Responses request body (``POST /v1/responses``), validated and converted to a
``ChatRequest`` for any vendor.

Field policy: what has a counterpart is translated (instructions, function tools, tool_choice,
max_output_tokens, reasoning effort, text.format...); hints without one (metadata, include,
service_tier, prompt_cache_key, truncation, hosted tools...) and unknown fields are accepted,
dropped and named in :attr:`ResponsesRequest.dropped` (the ``x-parlor-dropped`` header); only
what would change the answer's meaning with no counterpart (background mode, a stored
prompt or conversation, logprobs) gets a 400.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from app.api.errors import ApiError
from app.api.schemas import OpenWireModel, unsupported
from app.vendors import ChatMessage, ChatRequest, OutputFormat, Part, Reasoning, ToolCall, ToolSpec

TEXT_PARTS = ("input_text", "output_text", "text", "reasoning_text", "summary_text")
MEDIA_PARTS = ("input_image", "input_file")
HOSTED_TOOL_NAMES = {"mcp": "mcp:{server_label}"}
CUSTOM_INPUT = "input"  # a custom tool's one string argument, as a function tool's
CALLABLE_TOOLS = ("function", "custom")  # tools the model calls and the client runs
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


class ResponsesTool(OpenWireModel):
    type: str
    name: str | None = Field(default=None, min_length=1, max_length=128)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    tools: list[ResponsesTool] | None = None  # a namespace's own tools
    format: dict[str, Any] | None = None  # a custom tool's input: text or a grammar

    def functions(self, namespace: str | None = None) -> list[tuple[str | None, ResponsesTool]]:
        """This tool's callable tools (functions and custom tools) with their namespace:
        itself, or a namespace's members."""
        if self.type == "namespace":
            if not self.name:
                raise ApiError(400, "A namespace tool needs 'name'.", param="tools")
            return [pair for tool in self.tools or () for pair in tool.functions(self.name)]
        if self.type in CALLABLE_TOOLS:
            if not self.name:
                raise ApiError(400, f"A {self.type} tool needs 'name'.", param="tools")
            return [(namespace, self)]
        return []

    def spec(self, namespace: str | None) -> ToolSpec:
        """The tool as vendors get it: a custom tool is a function of one string, ``input``,
        whose description carries the input's grammar."""
        name = flat_name(namespace, self.name or "")
        if self.type != "custom":
            return ToolSpec(name=name, description=self.description or "",
                            parameters=self.parameters or {"type": "object",
                                                           "properties": {}},
                            strict=self.strict)
        about = "The raw input for the tool, as plain text (not JSON)."
        grammar = self.format or {}
        if grammar.get("type") == "grammar" and grammar.get("definition"):
            about += (f" It must match this {grammar.get('syntax') or 'lark'} grammar:\n"
                      f"{grammar['definition']}")
        return ToolSpec(name=name, description=self.description or "", parameters={
            "type": "object", "properties": {CUSTOM_INPUT: {"type": "string",
                                                            "description": about}},
            "required": [CUSTOM_INPUT], "additionalProperties": False})

    def hosted(self) -> list[str]:
        """The tools Parlor cannot run among this one (a namespace's too), as named in
        x-parlor-dropped: web_search, file_search, local_shell, custom:<name>..."""
        if self.type == "namespace":
            return [name for tool in self.tools or () for name in tool.hosted()]
        if self.type in CALLABLE_TOOLS:
            return []
        extra = self.model_extra or {}
        return [HOSTED_TOOL_NAMES.get(self.type, "{type}").format(
            type=self.type, name=self.name or "", server_label=extra.get("server_label", ""))]


class ResponsesToolName(OpenWireModel):
    type: str
    name: str | None = None
    namespace: str | None = None


class ResponsesToolChoice(ResponsesToolName):
    """A function or custom tool to call (``{type: "function" | "custom", name}``), the
    tools allowed (``{type: "allowed_tools", mode, tools}``) or a hosted tool (refused)."""

    mode: Literal["auto", "required"] | None = None
    tools: list[ResponsesToolName] | None = None


class ResponsesReasoning(OpenWireModel):
    effort: str | None = None
    summary: str | None = None
    generate_summary: str | None = None


class ResponsesTextFormat(OpenWireModel):
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponsesTextFormat:
        if self.type == "json_schema" and self.schema_ is None:
            raise ValueError("a json_schema format needs 'schema'")
        return self


class ResponsesTextConfig(OpenWireModel):
    format: ResponsesTextFormat | None = None
    verbosity: str | None = None


class ResponsesRequest(OpenWireModel):
    model: str = Field(min_length=1)
    input: str | list[ResponsesInputItem] = Field(default_factory=list)
    instructions: str | list[ResponsesInputItem] | None = None
    tools: list[ResponsesTool] | None = None
    tool_choice: Literal["auto", "none", "required"] | ResponsesToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    reasoning: ResponsesReasoning | None = None
    text: ResponsesTextConfig | None = None
    stream: bool | None = None
    store: bool | None = None
    previous_response_id: str | None = Field(default=None, min_length=1)
    user: str | None = None
    safety_identifier: str | None = None
    # Refused when set: Parlor cannot deliver what they ask for.
    background: bool | None = None
    conversation: Any = None
    prompt: Any = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)

    @model_validator(mode="after")
    def _deliverable(self) -> ResponsesRequest:
        refused = {
            "background mode": bool(self.background),
            "conversation (use previous_response_id)": self.conversation is not None,
            "prompt templates (send instructions and input)": self.prompt is not None,
            "top_logprobs": bool(self.top_logprobs),
        }
        names = [name for name, set_ in refused.items() if set_]
        if names:
            raise unsupported(names[0])
        return self

    @property
    def stores(self) -> bool:
        return self.store is not False  # the Responses API stores by default

    @property
    def input_items(self) -> list[dict]:
        """The request's input as a list of item objects (a string is one user message)."""
        if isinstance(self.input, str):
            return [{"type": "message", "role": "user", "content": self.input}]
        return [item.model_dump(mode="json", by_alias=True, exclude_none=True)
                for item in self.input]

    @property
    def dropped(self) -> list[str]:
        """What the vendor will not get of this request, for ``x-parlor-dropped``."""
        # Fields Parlor does not interpret: hints (metadata, include, service_tier,
        # prompt_cache_key, truncation, stream_options...) and anything unknown.
        names = list(self.model_extra or {})
        names += [name for tool in self.tools or () for name in tool.hosted()]
        if self.reasoning is not None and (self.reasoning.summary or
                                           self.reasoning.generate_summary):
            names.append("reasoning.summary")
        if self.text is not None and self.text.verbosity is not None:
            names.append("text.verbosity")
        return list(dict.fromkeys(names))

    def dropped_for(self, target: str | None) -> list[str]:
        """What a vendor speaking ``target`` does not get besides :attr:`dropped`: reasoning
        items sent back go only to Anthropic vendors, and only with their signature."""
        reasoning = [item.thinking_part() for item in self._items(self.input)
                     if item.type == "reasoning"]
        if any(target != "anthropic" or (p.type == "thinking" and not p.signature)
               for p in reasoning):
            return ["input.reasoning"]
        return []

    @staticmethod
    def _items(value: str | list[ResponsesInputItem] | None) -> list[ResponsesInputItem]:
        return value if isinstance(value, list) else []

    def to_chat_request(self, history: list[dict] | None = None) -> ChatRequest:
        """The normalised request; ``history`` holds a stored conversation's items, which come
        after the instructions and before this request's input."""
        messages: list[ChatMessage] = []
        if isinstance(self.instructions, str):
            messages.append(ChatMessage(role="system", content=self.instructions))
        for item in self._items(self.instructions) + _history(history) + (
                self._items(self.input)):
            item.add_to(messages)
        if isinstance(self.input, str):
            messages.append(ChatMessage(role="user", content=self.input))
        # Reasoning with nothing after it (the client kept a turn's reasoning alone) goes.
        messages = [m for m in messages if not thinking_only(m)]
        if not any(m.role != "system" for m in messages):
            raise ApiError(400, "input: give at least one message or item.", param="input")
        tools, choice = self._tools_and_choice()
        return ChatRequest(
            model=self.model, messages=tuple(messages), max_tokens=self.max_output_tokens,
            temperature=self.temperature, top_p=self.top_p, tools=tools, tool_choice=choice,
            user=self.user or self.safety_identifier,
            parallel_tool_calls=self.parallel_tool_calls, reasoning=self._reasoning(),
            output_format=self._output_format())

    def _tools_and_choice(self) -> tuple[tuple[ToolSpec, ...], str | None]:
        functions = [pair for tool in self.tools or () for pair in tool.functions()]
        tools = tuple(t.spec(ns) for ns, t in functions)
        choice = self.tool_choice
        if not isinstance(choice, ResponsesToolChoice):
            return tools, choice
        if choice.type in CALLABLE_TOOLS and choice.name:
            return tools, flat_name(choice.namespace, choice.name)
        if choice.type == "allowed_tools" and choice.mode:
            allowed = {flat_name(t.namespace, t.name) for t in choice.tools or () if t.name}
            return tuple(t for t in tools if t.name in allowed), choice.mode
        raise ApiError(400, f"tool_choice {choice.type!r} names a tool Parlor cannot run; "
                            "choose 'auto', 'none', 'required' or a function.",
                       param="tool_choice")

    def _reasoning(self) -> Reasoning | None:
        effort = self.reasoning.effort if self.reasoning else None
        if effort is None:
            return None
        return Reasoning(mode="disabled") if effort == "none" else Reasoning(effort=effort)

    def _output_format(self) -> OutputFormat | None:
        fmt = self.text.format if self.text else None
        if fmt is None or fmt.type == "text":
            return None
        return OutputFormat(type=fmt.type, schema=fmt.schema_, name=fmt.name or "response",
                            strict=fmt.strict, description=fmt.description)


def _history(items: list[dict] | None) -> list[ResponsesInputItem]:
    """A stored conversation's items, validated again (they were when first sent)."""
    try:
        return ITEMS.validate_python(items or [])
    except ValidationError:  # written by an older Parlor in a shape no longer read
        raise ApiError(400, "The previous response cannot be continued.",
                       param="previous_response_id") from None


def namespaced_tools(request: ResponsesRequest) -> dict[str, tuple[str, str]]:
    """Flattened name -> (namespace, name) for the request's namespaced functions."""
    return {flat_name(ns, t.name): (ns, t.name) for tool in request.tools or ()
            for ns, t in tool.functions() if ns}


def custom_tools(request: ResponsesRequest) -> set[str]:
    """The flattened names of the request's custom tools (their calls are custom_tool_call
    items, their one ``input`` argument unwrapped)."""
    return {flat_name(ns, t.name) for tool in request.tools or ()
            for ns, t in tool.functions() if t.type == "custom"}
