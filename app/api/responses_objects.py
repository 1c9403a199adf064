"""Responses API objects (the response, its output items and usage) built from normalised
results, field for field as the OpenAI SDK's ``openai.types.responses`` types read them."""

from __future__ import annotations

import json
import secrets
import time

from app.api.schemas.openai_response_items import CUSTOM_INPUT, REDACTED_PREFIX
from app.api.schemas.openai_responses import ResponsesRequest, custom_tools, namespaced_tools
from app.vendors import Part, Result, Usage

INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def new_id(prefix: str) -> str:
    """An id in OpenAI's style: ``resp_…``, ``msg_…``, ``fc_…`` and 48 hex digits."""
    return f"{prefix}_{secrets.token_hex(24)}"


def usage_object(usage: Usage | None) -> dict:
    usage = usage or Usage()
    return {"input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cache_read_tokens,
                                     "cache_write_tokens": usage.cache_write_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "total_tokens": usage.total_tokens}


def status_for(finish_reason: str | None) -> tuple[str, dict | None]:
    """The response's status and incomplete_details for a vendor's finish reason."""
    reason = INCOMPLETE_REASONS.get(finish_reason or "")
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


class ResponseDraft:
    """One response being answered: what it echoes of its request, and its item builders."""

    def __init__(self, request: ResponsesRequest):
        self.id = new_id("resp")
        self.created_at = int(time.time())
        self.request = request
        self._namespaces = namespaced_tools(request)
        self.custom = custom_tools(request)

    def response(self, status: str, output: list[dict], *, usage: Usage | None = None,
                 incomplete_details: dict | None = None, error: dict | None = None) -> dict:
        """The response object with ``status`` and ``output`` (usage only once finished)."""
        request = self.request
        instructions = request.instructions
        if isinstance(instructions, list):
            instructions = [item.model_dump(mode="json", exclude_none=True)
                            for item in instructions]
        text = {"format": {"type": "text"}}
        if request.text is not None:
            text = {**text, **request.text.model_dump(mode="json", by_alias=True,
                                                      exclude_none=True)}
        effort = request.reasoning.effort if request.reasoning else None
        tool_choice = request.tool_choice or "auto"
        if not isinstance(tool_choice, str):
            tool_choice = tool_choice.model_dump(mode="json", exclude_none=True)
        finished = status in ("completed", "incomplete")
        return {
            "id": self.id, "object": "response", "created_at": self.created_at,
            "status": status, "background": False, "error": error,
            "incomplete_details": incomplete_details, "instructions": instructions,
            "max_output_tokens": request.max_output_tokens, "max_tool_calls": None,
            "model": request.model, "output": output,
            "parallel_tool_calls": request.parallel_tool_calls is not False,
            "previous_response_id": request.previous_response_id,
            "reasoning": {"effort": effort, "summary": None},
            "service_tier": "default", "store": request.stores,
            "temperature": request.temperature, "text": text,
            "tool_choice": tool_choice,
            "tools": [tool.model_dump(mode="json", by_alias=True, exclude_none=True)
                      for tool in request.tools or ()],
            "top_p": request.top_p, "truncation": "disabled",
            "usage": usage_object(usage) if finished else None,
            "user": request.user, "metadata": (request.model_extra or {}).get("metadata") or {},
            "completed_at": int(time.time()) if finished else None,
        }

    @staticmethod
    def message_item(text: str | None, status: str) -> dict:
        """An assistant message item; ``text`` None gives one with no content part yet."""
        content = [] if text is None else [output_text(text)]
        return {"id": new_id("msg"), "type": "message", "status": status, "role": "assistant",
                "content": content}

    def call_item(self, call_id: str, name: str, arguments: str, status: str) -> dict:
        """A function_call item (a custom_tool_call for a custom tool, its input unwrapped),
        under the name (and namespace) the client declared."""
        namespace, inner = self._namespaces.get(name, (None, name))
        if name in self.custom:
            item = {"id": new_id("ctc"), "type": "custom_tool_call", "call_id": call_id,
                    "name": inner, "input": custom_input(arguments)}
        else:
            item = {"id": new_id("fc"), "type": "function_call", "status": status,
                    "call_id": call_id, "name": inner, "arguments": arguments}
        if namespace:
            item["namespace"] = namespace
        return item

    @staticmethod
    def reasoning_item(part: Part | None = None) -> dict:
        """A reasoning item: the thinking as one summary text part, an Anthropic signature
        (or a redacted block's data) in ``encrypted_content`` so the item can come back;
        ``part`` None gives one with no summary yet, to stream."""
        item = {"id": new_id("rs"), "type": "reasoning", "summary": [],
                "encrypted_content": None}
        if part is None:
            return item
        if part.type == "redacted_thinking":
            item["encrypted_content"] = REDACTED_PREFIX + (part.data or "")
            return item
        if part.text:
            item["summary"] = [summary_text(part.text)]
        item["encrypted_content"] = part.signature or None
        return item

    def completed(self, result: Result) -> dict:
        """The whole response for a non-streamed result."""
        status, details = status_for(result.finish_reason)
        item_status = "incomplete" if status == "incomplete" else "completed"
        output = [self.reasoning_item(part) for part in result.thinking]
        if result.text or not result.tool_calls:
            output.append(self.message_item(result.text, item_status))
        output += [self.call_item(c.id, c.name, c.arguments, "completed")
                   for c in result.tool_calls]
        return self.response(status, output, usage=result.usage, incomplete_details=details)


def output_text(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def summary_text(text: str) -> dict:
    return {"type": "summary_text", "text": text}


def custom_input(arguments: str) -> str:
    """A custom tool's raw input from the function arguments the model gave: its one
    ``input`` string (arguments that are not that object are passed on as they are)."""
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return arguments
    if isinstance(value, dict) and isinstance(value.get(CUSTOM_INPUT), str):
        return value[CUSTOM_INPUT]
    return arguments
