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

from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from app.api.errors import ApiError
from app.api.schemas import OpenWireModel, unsupported
from app.api.schemas.openai_response_items import (
    CUSTOM_INPUT,
    ITEMS,
    ResponsesInputItem,
    flat_name,
    thinking_only,
)
from app.vendors import ChatMessage, ChatRequest, OutputFormat, Reasoning, ToolSpec

HOSTED_TOOL_NAMES = {"mcp": "mcp:{server_label}"}
CALLABLE_TOOLS = ("function", "custom")  # tools the model calls and the client runs


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
    # Extra output asked for: reasoning items always carry their encrypted_content (an
    # Anthropic signature) here; anything else is dropped and named.
    include: list[str] | None = None
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
        if set(self.include or ()) - {"reasoning.encrypted_content"}:
            names.append("include")
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


class NativeResponsesRequest(OpenWireModel):
    """A Responses body for a vendor that speaks the API itself: only what Parlor owns is
    checked (the rest goes to the vendor as sent, and the vendor decides)."""

    model: str = Field(min_length=1)
    input: str | list[dict] = Field(default_factory=list)
    stream: bool | None = None
    store: bool | None = None
    previous_response_id: str | None = Field(default=None, min_length=1)
    # Both keep state at the vendor, which Parlor never asks it to: responses are Parlor's.
    background: bool | None = None
    conversation: Any = None

    @model_validator(mode="after")
    def _deliverable(self) -> NativeResponsesRequest:
        if self.background:
            raise unsupported("background mode")
        if self.conversation is not None:
            raise unsupported("conversation (use previous_response_id)")
        return self

    @property
    def stores(self) -> bool:
        return self.store is not False  # the Responses API stores by default
