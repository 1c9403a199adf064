"""OpenAI Chat Completions request body, validated and converted to a ``ChatRequest``.

The field policy (README, "JSON API"): fields Parlor interprets are translated for any vendor
(messages with text, image and file parts, tools, sampling, ``response_format``,
``reasoning_effort``...). Every other field (``seed``, ``metadata``, ``store``,
``service_tier``, ``prompt_cache_key``, penalties, fields Parlor has never heard of) is kept as
it came: forwarded unchanged to OpenAI-type vendors, dropped and named in ``x-parlor-dropped``
for the others. Only what would change the answer's meaning and has no counterpart anywhere
(``n`` > 1, ``logprobs``, audio output) is a 400.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from app.api.schemas import OpenWireModel, WireModel, unsupported
from app.api.schemas.data_urls import parse_data_url
from app.vendors import ChatMessage, ChatRequest, OutputFormat, Part, Reasoning, ToolCall, ToolSpec

# Fields the schema reads; the rest of a body is forwarded as native fields.
INTERPRETED = frozenset({
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
    "temperature", "top_p", "stop", "n", "tools", "tool_choice", "parallel_tool_calls",
    "response_format", "reasoning_effort", "user", "safety_identifier", "logprobs",
    "top_logprobs", "modalities", "audio"})


class ImageURL(OpenWireModel):
    url: str = Field(min_length=1)
    detail: str | None = None


class FileData(OpenWireModel):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class ContentPart(OpenWireModel):
    _part: Part = PrivateAttr()
    type: str
    text: str | None = None
    refusal: str | None = None
    image_url: ImageURL | None = None
    file: FileData | None = None

    @model_validator(mode="after")
    def _complete(self) -> ContentPart:
        needs = {"text": "text", "image_url": "image_url", "file": "file"}.get(self.type)
        if needs and getattr(self, needs) is None:
            raise ValueError(f"a {self.type} part needs {needs!r}")
        if self.type == "file" and not (self.file.file_data or self.file.file_id):
            raise ValueError("a file part needs 'file_data' or 'file_id'")
        self._part = self._normalise()  # a bad data URL is a validation error, so a 400
        return self

    def normalised(self) -> Part:
        return self._part

    def _normalise(self) -> Part:
        if self.type == "text":
            return Part("text", text=self.text or "")
        if self.type == "refusal":
            return Part("text", text=self.refusal or "")
        if self.type == "image_url":
            url = self.image_url.url
            if url.startswith("data:"):
                media_type, data = parse_data_url(url, "image_url.url")
                return Part("image", media_type=media_type, data=data)
            if not url.startswith(("https://", "http://")):
                raise ValueError("image_url.url must be an http(s) URL or a data URL")
            return Part("image", url=url)
        if self.type == "file" and self.file.file_data:
            media_type, data = parse_data_url(self.file.file_data, "file.file_data")
            return Part("document", media_type=media_type, data=data, name=self.file.filename)
        # input_audio, file ids, kinds to come: only an OpenAI-type vendor can read them
        return Part("native", native=self.model_dump(exclude_none=True))


class FunctionCall(WireModel):
    name: str
    arguments: str = ""


class ToolCallIn(OpenWireModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(OpenWireModel):
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

    def normalised(self) -> ChatMessage:
        role = "system" if self.role == "developer" else self.role
        calls = tuple(ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
                      for c in self.tool_calls or ())
        parts: tuple[Part, ...] = ()
        if isinstance(self.content, list):
            parts = tuple(part.normalised() for part in self.content)
            text = "\n".join(p.text for p in parts if p.type == "text")
            if all(p.type == "text" for p in parts):
                parts = ()  # plain text: no parts needed
        else:
            text = self.content or ""
        return ChatMessage(role=role, content=text, tool_calls=calls,
                           tool_call_id=self.tool_call_id, parts=parts)


class FunctionSpec(OpenWireModel):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(OpenWireModel):
    type: str
    function: FunctionSpec | None = None

    @model_validator(mode="after")
    def _function_has_spec(self) -> Tool:
        if self.type == "function" and self.function is None:
            raise ValueError("a function tool needs 'function'")
        return self

    def normalised(self) -> ToolSpec:
        if self.type != "function":  # custom or hosted tools: only OpenAI-type vendors run them
            name = str((self.model_extra or {}).get("name") or self.type)
            return ToolSpec(name=name, native=self.model_dump(exclude_none=True))
        spec = self.function
        return ToolSpec(name=spec.name, description=spec.description or "",
                        parameters=spec.parameters or {"type": "object", "properties": {}},
                        strict=spec.strict)


class NamedFunction(WireModel):
    name: str


class NamedToolChoice(WireModel):
    type: Literal["function"]
    function: NamedFunction


class StreamOptions(OpenWireModel):
    include_usage: bool | None = None


class JsonSchema(OpenWireModel):
    name: str = Field(default="response", min_length=1, max_length=64)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None
    description: str | None = None


class ResponseFormat(WireModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchema | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("a json_schema response_format needs 'json_schema'")
        return self

    def normalised(self) -> OutputFormat | None:
        if self.type == "text":
            return None
        if self.type == "json_object":
            return OutputFormat("json_object")
        spec = self.json_schema
        return OutputFormat("json_schema", schema=spec.schema_, name=spec.name,
                            strict=spec.strict, description=spec.description)


class ChatCompletionRequest(OpenWireModel):
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
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    user: str | None = None
    safety_identifier: str | None = None

    @model_validator(mode="after")
    def _deliverable(self) -> ChatCompletionRequest:
        if isinstance(self.stop, list) and len(self.stop) > 4:
            raise ValueError("'stop' takes at most 4 sequences")
        refused = {
            "n greater than 1": (self.n or 1) > 1,
            "logprobs": bool(self.logprobs),
            "top_logprobs": bool(self.top_logprobs),
            "Audio output": (self.audio is not None
                             or any(m != "text" for m in self.modalities or ())),
        }
        names = [name for name, set_ in refused.items() if set_]
        if names:
            raise unsupported(names[0])
        return self

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def native_fields(self, body: dict) -> dict[str, Any]:
        """The body's fields Parlor does not interpret, as the client sent them."""
        fields = {name: value for name, value in body.items() if name not in INTERPRETED}
        extra_stream = {k: v for k, v in (body.get("stream_options") or {}).items()
                        if k != "include_usage"} if isinstance(body.get("stream_options"),
                                                               dict) else {}
        if extra_stream:
            fields["stream_options"] = extra_stream
        return fields

    def to_chat_request(self, body: dict | None = None) -> ChatRequest:
        """The normalised request; ``body`` (the raw JSON) supplies the native fields."""
        choice = self.tool_choice
        if isinstance(choice, NamedToolChoice):
            choice = choice.function.name
        stop = [self.stop] if isinstance(self.stop, str) else self.stop or []
        effort = self.reasoning_effort
        return ChatRequest(
            model=self.model,
            messages=tuple(message.normalised() for message in self.messages),
            max_tokens=self.max_completion_tokens or self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=tuple(stop),
            tools=tuple(tool.normalised() for tool in self.tools or ()),
            tool_choice=choice,
            user=self.user or self.safety_identifier,
            parallel_tool_calls=self.parallel_tool_calls,
            reasoning=Reasoning(effort=effort) if effort else None,
            output_format=self.response_format.normalised() if self.response_format else None,
            native_format="openai",
            native_fields=self.native_fields(body or {}),
        )
