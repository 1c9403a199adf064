"""OpenAI adapter, also for any OpenAI-compatible server (vLLM, llama.cpp, Ollama) by base URL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai

from app.vendors import responses_api
from app.vendors.embeddings import EmbeddingRequest, Embeddings, encoded
from app.vendors.errors import VendorUnavailable, scrub
from app.vendors.responses_api import ResponseEvent, ResponsesCall
from app.vendors.sdk_adapter import SDKHandler
from app.vendors.sender import Endpoint, sse_data, sse_lines
from app.vendors.streamed_body import base64_value
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Delta,
    OutputFormat,
    Part,
    Reasoning,
    Result,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
    effort_for_budget,
)
from app.vendors.watchdog import StallWatchdog

FINISH_REASONS = {"function_call": "tool_calls"}
MALFORMED_EVENT = (AttributeError, KeyError, TypeError, ValueError)


class OpenAIHandler(SDKHandler):
    sdk, client_class, http_client_class = openai, "OpenAI", "DefaultHttpx2Client"

    def __init__(self, credential):
        super().__init__(credential)
        self.completions = self.endpoint("/chat/completions")
        self.embeddings = self.endpoint("/embeddings")
        self.responses = self.endpoint("/responses")

    def completions_for(self, model: str) -> Endpoint:
        """Where chat completions of ``model`` go (one path here; per deployment on Azure)."""
        return self.completions

    def embeddings_for(self, model: str) -> Endpoint:
        return self.embeddings

    def models(self) -> list[str]:
        with self.translated_errors():
            return sorted(model.id for model in self.client.models.list())

    def _params(self, request: ChatRequest) -> dict:
        native = request.native_format == "openai"
        params: dict = {"model": request.model,
                        "messages": [_message(m, native) for m in request.messages]}
        if request.max_tokens is not None:
            # Reasoning models refuse the legacy field; compatible servers often know only it.
            field = ("max_tokens" if self.credential.kind == "openai-compatible"
                     else "max_completion_tokens")
            params[field] = request.max_tokens
        for name in ("temperature", "top_p", "user"):
            if getattr(request, name) is not None:
                params[name] = getattr(request, name)
        if request.stop:
            params["stop"] = list(request.stop)
        tools = [_tool(t) for t in request.tools if t.native is None or native]
        if tools:
            params["tools"] = tools
        if request.tool_choice:
            params["tool_choice"] = (
                request.tool_choice if request.tool_choice in ("auto", "none", "required")
                else {"type": "function", "function": {"name": request.tool_choice}}
            )
        if request.parallel_tool_calls is not None and tools:
            params["parallel_tool_calls"] = request.parallel_tool_calls
        if (effort := _effort(request.reasoning)) is not None:
            params["reasoning_effort"] = effort
        if request.output_format is not None:
            params["response_format"] = _response_format(request.output_format)
        if native:  # the client's own fields, as it sent them: the vendor decides
            params.update({k: v for k, v in request.native_fields.items() if k not in params})
        return params

    def complete(self, request: ChatRequest) -> Result:
        with self.translated_errors():
            body = json.loads(self.completions_for(request.model).post(
                self._params(request)).content)
        with self.well_formed():
            return _read_completion(body, request.model)

    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        params = self._params(request) | {"stream": True,
                                          "stream_options": {"include_usage": True}}
        state: dict = {}
        yield from self.watched_stream(
            self.completions_for(request.model), params,
            lambda upstream, watchdog: self._deltas(sse_data(upstream), watchdog, state))
        finish, usage = state.get("finish"), state.get("usage")
        if finish is None:
            raise VendorUnavailable(f"{self.credential.name} ended the reply early",
                                    vendor=self.credential.name)
        yield Delta(finish_reason=finish, usage=usage or Usage())

    def embed(self, request: EmbeddingRequest) -> Embeddings:
        params: dict = {"model": request.model, "input": request.input,
                        "encoding_format": request.encoding_format}
        if request.dimensions is not None:
            params["dimensions"] = request.dimensions
        if request.user is not None:
            params["user"] = request.user
        params.update({k: v for k, v in request.native_fields.items() if k not in params})
        with self.translated_errors():
            body = json.loads(self.embeddings_for(request.model).post(params).content)
        with self.well_formed():
            return _read_embeddings(body, request)

    def respond(self, call: ResponsesCall) -> dict:
        """``POST /responses``, the vendor's response object as it answered it."""
        with self.translated_errors():
            body = json.loads(self.responses.post(call.params()).content)
        with self.well_formed("response"):
            if not isinstance(body, dict) or not isinstance(body["output"], list):
                raise ValueError("a response object has its output")
        return body

    def respond_stream(self, call: ResponsesCall) -> Iterator[ResponseEvent]:
        """``POST /responses`` streamed: the vendor's events as it sent them, ending with its
        final one (``response.completed``, ``.incomplete`` or ``.failed``); an ``error`` event
        or a stream cut before the final event raises VendorUnavailable."""
        name, secret = self.credential.name, self.credential.api_key

        def read(upstream, watchdog: StallWatchdog) -> Iterator[ResponseEvent]:
            finished = False
            try:
                for event in responses_api.events(sse_lines(upstream)):
                    if finished:  # read to the body's end: the connection is pooled again
                        continue
                    yield event
                    finished = event.final
                    watchdog.fed()
            except responses_api.ResponsesStreamError as exc:
                raise VendorUnavailable(scrub(str(exc), secret), vendor=name) from None
            except MALFORMED_EVENT:
                raise VendorUnavailable(f"{name} sent a malformed event", vendor=name) from None
            if not finished:
                raise VendorUnavailable(f"{name} ended the reply early", vendor=name)

        yield from self.watched_stream(self.responses, call.params(stream=True), read)

    def _deltas(self, fields: Iterator[bytes], watchdog: StallWatchdog,
                state: dict) -> Iterator[Delta]:
        """The upstream's SSE data fields as deltas; the finish reason and usage go to ``state``.

        Each chunk is read with json.loads alone: re-validating it through the SDK's models
        costs ~55 µs a chunk, which decides how many streams a worker can relay.
        """
        done = False
        for data in fields:
            if done:  # after [DONE] the body is read to its end: the connection is pooled again
                continue
            if data == b"[DONE]":
                done = True
                continue
            try:
                deltas = _read_chunk(json.loads(data), state)
            except (AttributeError, TypeError, ValueError, OverflowError):  # not a chunk at all
                raise VendorUnavailable(f"{self.credential.name} sent a malformed chunk",
                                        vendor=self.credential.name) from None
            except _StreamError as exc:
                raise VendorUnavailable(scrub(str(exc), self.credential.api_key),
                                        vendor=self.credential.name) from None
            yield from deltas
            watchdog.fed()  # the wait for the next chunk starts now, not while the client read


def _read_completion(body: dict, model: str) -> Result:
    """A ``chat.completion`` body as a Result (a wrong shape raises a built-in error)."""
    choice = body["choices"][0]
    message = choice.get("message") or {}
    calls = tuple(
        ToolCall(id=str(c.get("id") or ""), name=str((c.get("function") or {}).get("name") or ""),
                 arguments=str((c.get("function") or {}).get("arguments") or ""))
        for c in (message.get("tool_calls") or [])
    )
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    return Result(
        text=str(message.get("content") or ""),
        finish_reason=_finish(choice.get("finish_reason")),
        usage=_usage(body.get("usage")),
        model=str(body.get("model") or model),
        tool_calls=calls,
        id=str(body.get("id") or ""),
        thinking=(Part("thinking", text=reasoning),) if isinstance(reasoning, str) and reasoning
        else (),
    )


def _read_embeddings(body: dict, request: EmbeddingRequest) -> Embeddings:
    """A ``list`` of ``embedding`` objects, in input order (a wrong shape raises a built-in
    error), each in the encoding the client asked for."""
    items = sorted(body["data"], key=lambda item: int(item.get("index", 0)))
    vectors = []
    for item in items:
        vector = item["embedding"]
        if not isinstance(vector, str | list):
            raise ValueError("an embedding is a list of numbers or a base64 string")
        vectors.append(encoded(vector, request.encoding_format))
    if len(vectors) != request.input_count():
        raise ValueError("one embedding per input")
    usage = body.get("usage") or {}
    return Embeddings(vectors=tuple(vectors), model=str(body.get("model") or request.model),
                      usage=Usage(input_tokens=int(usage.get("prompt_tokens") or 0)))


class _StreamError(Exception):
    """The vendor sent an error event inside the stream."""


def _read_chunk(chunk: dict, state: dict) -> list[Delta]:
    """One ``chat.completion.chunk`` as deltas; its finish reason and usage go to ``state``."""
    if chunk.get("error"):
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise _StreamError(message or "the stream failed")
    if chunk.get("usage"):
        state["usage"] = _usage(chunk["usage"])
    deltas = []
    for choice in (chunk.get("choices") or ())[:1]:
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning and isinstance(reasoning, str):  # OpenAI-compatible servers' reasoning text
            deltas.append(Delta(thinking=reasoning))
        if delta.get("content"):
            deltas.append(Delta(text=str(delta["content"])))
        for call in delta.get("tool_calls") or ():
            function = call.get("function") or {}
            deltas.append(Delta(tool_call=ToolCallDelta(
                index=int(call.get("index", 0)), id=call.get("id"),
                name=function.get("name"), arguments=function.get("arguments") or "",
            )))
        if choice.get("finish_reason"):
            state["finish"] = _finish(choice["finish_reason"])
    return deltas


def _message(message: ChatMessage, native: bool) -> dict:
    content = _content(message.parts, native) if message.parts else message.content
    out: dict = {"role": message.role, "content": content}
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    return out


def _content(parts: tuple[Part, ...], native: bool) -> list[dict] | str:
    """Content parts in Chat Completions' shape; earlier thinking is Anthropic's alone. A
    large image or PDF goes as a data URL written as the body is sent (streamed_body.py)."""
    out: list[dict] = []
    for part in parts:
        if part.type == "text":
            out.append({"type": "text", "text": part.text})
        elif part.type == "image":
            url = part.url or base64_value(part, f"data:{part.media_type};base64,")
            out.append({"type": "image_url", "image_url": {"url": url}})
        elif part.type == "document":
            out.append(_document(part))
        elif part.type == "native" and native and part.native is not None:
            out.append(dict(part.native))
    if all(p["type"] == "text" for p in out):
        return "\n".join(p["text"] for p in out)  # what every compatible server reads
    return out


def _document(part: Part) -> dict:
    """A PDF as a ``file`` part; a text document (or a URL one) as text naming its source."""
    if part.has_source() and part.media_type == "application/pdf":
        file = {"file_data": base64_value(part, f"data:{part.media_type};base64,")}
        if part.name:
            file["filename"] = part.name
        return {"type": "file", "file": file}
    title = part.name or part.url or "document"
    return {"type": "text", "text": f"{title}:\n{part.text}" if part.text else title}


def _tool(tool: ToolSpec) -> dict:
    if tool.native is not None:
        return dict(tool.native)
    function = {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _effort(reasoning: Reasoning | None) -> str | None:
    """OpenAI's reasoning effort for a request's reasoning (a thinking budget is translated)."""
    if reasoning is None or reasoning.mode == "disabled":
        return None
    if reasoning.effort:
        return reasoning.effort
    if reasoning.budget_tokens:
        return effort_for_budget(reasoning.budget_tokens)
    return "medium" if reasoning.mode else None  # adaptive thinking: the model's own default


def _response_format(output: OutputFormat) -> dict:
    if output.type == "json_object":
        return {"type": "json_object"}
    spec: dict = {"name": output.name, "schema": dict(output.schema or {"type": "object"})}
    if output.strict is not None:
        spec["strict"] = output.strict
    if output.description:
        spec["description"] = output.description
    return {"type": "json_schema", "json_schema": spec}


def _finish(reason: str | None):
    reason = FINISH_REASONS.get(reason, reason)
    return reason if reason in ("stop", "length", "tool_calls", "content_filter") else "stop"


def _usage(usage: dict | None) -> Usage:
    if not usage:
        return Usage()
    prompt = usage.get("prompt_tokens_details") or {}
    completion = usage.get("completion_tokens_details") or {}
    return Usage(input_tokens=int(usage.get("prompt_tokens") or 0),
                 output_tokens=int(usage.get("completion_tokens") or 0),
                 cache_read_tokens=int(prompt.get("cached_tokens") or 0),
                 reasoning_tokens=int(completion.get("reasoning_tokens") or 0))
