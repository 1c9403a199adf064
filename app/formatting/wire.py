"""API wire encoders: normalised results, deltas and model lists as OpenAI Chat Completions
and Anthropic Messages JSON, and as their server-sent events (used by app/api)."""

from __future__ import annotations

import json

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                "content_filter": "refusal", "error": "end_turn"}
MODEL_CREATED = 0  # Parlor's model names have no creation date of their own
MODEL_CREATED_AT = "1970-01-01T00:00:00Z"


def _json(payload) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def sse_data(payload) -> str:
    """One unnamed server-sent event (OpenAI framing), ended by its blank line."""
    return f"data: {_json(payload)}\n\n"


def sse_event(name: str, payload) -> str:
    """One named server-sent event (Anthropic framing), ended by its blank line."""
    return f"event: {name}\ndata: {_json(payload)}\n\n"


def openai_finish_reason(reason: str | None) -> str | None:
    return "stop" if reason == "error" else reason


def openai_usage(usage) -> dict:
    return {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens}}


def openai_completion(result, *, id: str, model: str, created: int) -> dict:
    """A normalised Result as an OpenAI ``chat.completion`` object."""
    message = {"role": "assistant", "content": result.text or (None if result.tool_calls else ""),
               "refusal": None}
    reasoning = "".join(part.text for part in result.thinking if part.type == "thinking")
    if reasoning:  # as OpenAI-compatible reasoning servers (vLLM, DeepSeek) send it
        message["reasoning_content"] = reasoning
    if result.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in result.tool_calls]
    return {"id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": openai_finish_reason(result.finish_reason)}],
            "usage": openai_usage(result.usage), "system_fingerprint": None}


class OpenAIStream:
    """Normalised deltas as ``chat.completion.chunk`` events: the role in the first chunk only,
    a finish chunk, the usage chunk when asked for, then ``[DONE]``."""

    def __init__(self, *, id: str, model: str, created: int, include_usage: bool):
        self.head = {"id": id, "object": "chat.completion.chunk", "created": created,
                     "model": model}
        self.include_usage = include_usage
        # A text chunk is most of a stream: its event is written around the text's JSON, the
        # rest of it rendered once (the same bytes as rendering it whole).
        marker = "\x00parlor-text\x00"
        self._text_head, _, self._text_tail = self._chunk({"content": marker}).partition(
            _json(marker))

    def _chunk(self, delta: dict, finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        usage = {"usage": None} if self.include_usage else {}
        return sse_data({**self.head, "choices": [choice], **usage})

    def start(self) -> str:
        return self._chunk({"role": "assistant", "content": "", "refusal": None})

    def feed(self, delta) -> list[str]:
        """The events for one normalised delta (none, one or several)."""
        events = []
        if delta.thinking:
            events.append(self._chunk({"reasoning_content": delta.thinking}))
        if delta.text:
            events.append(self._text_head + _json(delta.text) + self._text_tail)
        if delta.tool_call:
            call = delta.tool_call
            fragment = {"index": call.index, "function": {"arguments": call.arguments}}
            if call.id:
                fragment = {"index": call.index, "id": call.id, "type": "function",
                            "function": {"name": call.name or "", "arguments": call.arguments}}
            events.append(self._chunk({"tool_calls": [fragment]}))
        if delta.finish_reason:
            events.append(self._chunk({}, openai_finish_reason(delta.finish_reason)))
            if self.include_usage and delta.usage is not None:
                events.append(sse_data({**self.head, "choices": [],
                                        "usage": openai_usage(delta.usage)}))
            events.append("data: [DONE]\n\n")
        return events

    def error(self, message: str, type_: str = "server_error") -> str:
        """An error after the 200 went out; the SDK raises ``APIError`` (no ``[DONE]`` follows)."""
        return sse_data({"error": {"message": message, "type": type_, "param": None,
                                   "code": None}})


def _tool_input(arguments: str) -> dict:
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def anthropic_usage(usage) -> dict:
    """Anthropic's ``input_tokens`` leave out the cached ones, which have fields of their own."""
    cached = usage.cache_read_tokens + usage.cache_write_tokens
    return {"input_tokens": max(usage.input_tokens - cached, 0),
            "output_tokens": usage.output_tokens,
            "cache_creation_input_tokens": usage.cache_write_tokens,
            "cache_read_input_tokens": usage.cache_read_tokens}


def anthropic_thinking_block(part) -> dict:
    if part.type == "redacted_thinking":
        return {"type": "redacted_thinking", "data": part.data}
    return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}


def anthropic_message(result, *, id: str, model: str) -> dict:
    """A normalised Result as an Anthropic ``message`` object (reasoning first, as the model
    gave it, so a client can send it back on the next turn)."""
    content = [anthropic_thinking_block(part) for part in result.thinking]
    content += [{"type": "text", "text": result.text}] if result.text else []
    content += [{"type": "tool_use", "id": c.id, "name": c.name, "input": _tool_input(c.arguments)}
                for c in result.tool_calls]
    return {"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": STOP_REASONS.get(result.finish_reason, "end_turn"),
            "stop_sequence": None, "usage": anthropic_usage(result.usage)}


class AnthropicStream:
    """Normalised deltas as Messages events: message_start, per block content_block_start /
    _delta... / _stop, then message_delta with the usage and message_stop."""

    def __init__(self, *, id: str, model: str):
        self.id, self.model = id, model
        self.index = -1  # the open block's index
        self.open: tuple[str, int | None] | None = None  # ("text", None) or ("tool", call index)

    def start(self) -> str:
        message = {"id": self.id, "type": "message", "role": "assistant", "model": self.model,
                   "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": 0, "output_tokens": 0}}
        return sse_event("message_start", {"type": "message_start", "message": message})

    def _block(self, block: dict, opened: tuple[str, int | None]) -> list[str]:
        events = self._close()
        self.index += 1
        self.open = opened
        return events + [sse_event("content_block_start", {
            "type": "content_block_start", "index": self.index, "content_block": block})]

    def _close(self) -> list[str]:
        if self.open is None:
            return []
        self.open = None
        return [sse_event("content_block_stop", {"type": "content_block_stop",
                                                 "index": self.index})]

    def _delta(self, delta: dict) -> str:
        return sse_event("content_block_delta", {"type": "content_block_delta",
                                                 "index": self.index, "delta": delta})

    def feed(self, delta) -> list[str]:
        """The events for one normalised delta (none, one or several)."""
        events = []
        if delta.thinking or delta.signature:
            # a signature ends its block; with display "omitted" it is all the block has
            if self.open != ("thinking", None):
                events += self._block({"type": "thinking", "thinking": "", "signature": ""},
                                      ("thinking", None))
            if delta.thinking:
                events.append(self._delta({"type": "thinking_delta",
                                           "thinking": delta.thinking}))
            if delta.signature:
                events.append(self._delta({"type": "signature_delta",
                                           "signature": delta.signature}))
                self.open = ("signed", None)
        if delta.redacted_thinking:
            events += self._block({"type": "redacted_thinking", "data": delta.redacted_thinking},
                                  ("redacted", None))
        if delta.text:
            if self.open != ("text", None):
                events += self._block({"type": "text", "text": ""}, ("text", None))
            events.append(self._delta({"type": "text_delta", "text": delta.text}))
        call = delta.tool_call
        if call and call.id:
            events += self._block({"type": "tool_use", "id": call.id, "name": call.name or "",
                                   "input": {}}, ("tool", call.index))
        if call and call.arguments and self.open == ("tool", call.index):
            events.append(self._delta({"type": "input_json_delta",
                                       "partial_json": call.arguments}))
        if delta.finish_reason:
            usage = delta.usage
            events += self._close()
            events.append(sse_event("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": STOP_REASONS.get(delta.finish_reason, "end_turn"),
                          "stop_sequence": None},
                "usage": anthropic_usage(usage) if usage else {"input_tokens": 0,
                                                                "output_tokens": 0}}))
            events.append(sse_event("message_stop", {"type": "message_stop"}))
        return events

    def error(self, message: str, type_: str = "api_error") -> str:
        """An error after the 200 went out; the SDK raises ``APIStatusError`` (status 200)."""
        return sse_event("error", {"type": "error", "error": {"type": type_, "message": message}})


def openai_model(info) -> dict:
    return {"id": info.id, "object": "model", "created": MODEL_CREATED, "owned_by": info.vendor}


def openai_model_list(infos) -> dict:
    return {"object": "list", "data": [openai_model(info) for info in infos]}


def anthropic_model(info) -> dict:
    return {"type": "model", "id": info.id, "display_name": info.id,
            "created_at": MODEL_CREATED_AT}


def anthropic_model_list(infos) -> dict:
    data = [anthropic_model(info) for info in infos]
    return {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None}
