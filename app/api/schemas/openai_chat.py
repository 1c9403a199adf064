"""OpenAI Chat Completions request body, validated and converted to a ``ChatRequest``.

Fields a client may send that cannot change Parlor's answer (``user``, ``metadata``, ``store``,
``seed``, ``service_tier``, ``parallel_tool_calls``...) are accepted and ignored; fields whose
effect Parlor cannot deliver (``n`` > 1, ``logprobs``, JSON output formats...) get a clear 400.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from app.api.schemas import OpenWireModel, WireModel, unsupported
from app.vendors import ChatMessage, ChatRequest, ToolCall, ToolSpec

TEXT_ONLY = "Image, audio and file content"


class ContentPart(OpenWireModel):
    type: str
    text: str | None = None
    refusal: str | None = None

    @model_validator(mode="after")
    def _known(self) -> ContentPart:
        if self.type in ("image_url", "input_audio", "file"):
            raise unsupported(TEXT_ONLY)
        if self.type == "text" and self.text is None:
            raise ValueError("a text part needs 'text'")
        if self.type not in ("text", "refusal"):
            raise ValueError(f"unknown content part type {self.type!r}")
        return self


class FunctionCall(WireModel):
    name: str
    arguments: str = ""


class ToolCallIn(WireModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(WireModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None

    @model_validator(mode="after")
    def _fields_for_role(self) -> Message:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs 'tool_call_id'")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only assistant messages may carry 'tool_calls'")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a {self.role} message needs 'content'")
        return self

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(part.text or part.refusal or "" for part in self.content)
        return self.content or ""

    def normalised(self) -> ChatMessage:
        role = "system" if self.role == "developer" else self.role
        calls = tuple(ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
                      for c in self.tool_calls or ())
        return ChatMessage(role=role, content=self.text, tool_calls=calls,
                           tool_call_id=self.tool_call_id)


class FunctionSpec(WireModel):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(WireModel):
    type: Literal["function"]
    function: FunctionSpec


class NamedFunction(WireModel):
    name: str


class NamedToolChoice(WireModel):
    type: Literal["function"]
    function: NamedFunction


class StreamOptions(WireModel):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class ResponseFormat(OpenWireModel):
    type: str

    @model_validator(mode="after")
    def _text_only(self) -> ResponseFormat:
        if self.type != "text":
            raise unsupported(f"response_format {self.type!r}")
        return self


class ChatCompletionRequest(WireModel):
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: str | list[str] | None = None
    n: int | None = Field(default=None, ge=1, le=128)
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    logit_bias: dict[str, float] | None = None
    modalities: list[str] | None = None
    # Accepted and ignored: they do not change the answer Parlor can give.
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    seed: int | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    # Refused below when set: Parlor cannot deliver what they ask for.
    reasoning_effort: str | None = None
    verbosity: str | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: Any = None

    @model_validator(mode="after")
    def _deliverable(self) -> ChatCompletionRequest:
        if isinstance(self.stop, list) and len(self.stop) > 4:
            raise ValueError("'stop' takes at most 4 sequences")
        refused = {
            "n greater than 1": (self.n or 1) > 1,
            "logprobs": bool(self.logprobs),
            "top_logprobs": bool(self.top_logprobs),
            "logit_bias": bool(self.logit_bias),
            "frequency_penalty": bool(self.frequency_penalty),
            "presence_penalty": bool(self.presence_penalty),
            "modalities": any(m != "text" for m in self.modalities or ()),
            "reasoning_effort": self.reasoning_effort is not None,
            "verbosity": self.verbosity is not None,
            "audio": self.audio is not None,
            "prediction": self.prediction is not None,
            "web_search_options": self.web_search_options is not None,
            "functions (legacy; use tools)": self.functions is not None,
            "function_call (legacy; use tool_choice)": self.function_call is not None,
        }
        names = [name for name, set_ in refused.items() if set_]
        if names:
            raise unsupported(names[0])
        return self

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def to_chat_request(self) -> ChatRequest:
        choice = self.tool_choice
        if isinstance(choice, NamedToolChoice):
            choice = choice.function.name
        stop = [self.stop] if isinstance(self.stop, str) else self.stop or []
        return ChatRequest(
            model=self.model,
            messages=tuple(message.normalised() for message in self.messages),
            max_tokens=self.max_completion_tokens or self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=tuple(stop),
            tools=tuple(
                ToolSpec(name=t.function.name, description=t.function.description or "",
                         parameters=t.function.parameters or {"type": "object", "properties": {}})
                for t in self.tools or ()
            ),
            tool_choice=choice,
            user=self.user or self.safety_identifier,
        )
