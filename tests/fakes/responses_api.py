"""The fake vendor's ``POST /v1/responses``: OpenAI's Responses API, plain and streamed, with the
real event sequence (``response.created``, ``response.in_progress``, ``output_item.added``,
``content_part.added``, ``output_text.delta``… their ``.done`` events, ``response.completed``
with usage).

By model, as the chat routes: any name echoes the last user text (``Echo: …``); ``tool-call``
calls the first function tool with ``{"query": <text>}`` (a coding agent's shell tool, one
requiring ``command`` / ``cmd``, with ``echo parlor-tool-ok``) until the input holds a
``function_call_output``, then answers ``Tool said: <output>``; ``error-<status>`` answers that
status; ``flaky-N`` fails the first N requests for that name with 503, then echoes;
``slow-stream`` streams many words ``chunk_delay`` apart (a client that hangs up is recorded
in ``disconnects``); ``stream-error`` streams a little then an ``error`` event;
``cut-stream`` streams a little then drops the connection. A ``web_search`` tool among the
tools adds a hosted ``web_search_call`` item first (its own events), as the real API runs
it. Usage: one token a word of the instructions and input, one a word of the output;
``cached_tokens`` the words of ``prompt_cache_key``'s value, ``reasoning_tokens`` 0.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

CREATED = 1_700_000_000
PREFIX_EVENTS = 5  # events sent before a cut or an in-band error (one text delta)
_IDS = itertools.count(1)


def answer(handler, body: Any) -> None:
    """Answer the request on ``handler`` (the fake server's request handler)."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return handler._error(400, "model is required.")
    model = body["model"]
    if match := re.fullmatch(r"error-(\d{3})", model):
        return handler._error(int(match.group(1)), f"The fake vendor answers {model}.")
    if (match := re.fullmatch(r"flaky-(\d+)(?:-.*)?", model)) and (
            handler.server.fake._attempt(model) <= int(match.group(1))):
        return handler._error(503, "The server is overloaded or not ready yet.")
    events = list(_events(body))
    if not body.get("stream"):
        if model in ("cut-stream", "stream-error"):
            return handler._error(500, "The server had an error while processing your request.")
        return handler._json(200, events[-1][1]["response"])
    handler._headers(200, "text/event-stream; charset=utf-8",
                     {"transfer-encoding": "chunked", "cache-control": "no-cache"})
    handler.end_headers()
    try:
        for index, (name, data) in enumerate(events):
            if index == PREFIX_EVENTS and model == "cut-stream":
                handler.close_connection = True
                handler.wfile.flush()
                return  # the body never ends
            if index == PREFIX_EVENTS and model == "stream-error":
                handler._write_event("error", {
                    "type": "error", "code": "server_error", "param": None,
                    "message": "The server had an error while streaming.",
                    "sequence_number": index})
                break
            if model == "slow-stream" and name == "response.output_text.delta":
                time.sleep(handler.server.fake.chunk_delay)
            handler._write_event(name, data)
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        handler.server.fake._disconnected(model, handler.generation)
        raise


def _events(body: dict):
    """(event name, data) of the whole response, ``response.completed`` last."""
    response_id = f"resp_fake{next(_IDS):06d}"
    response = {"id": response_id, "object": "response", "created_at": CREATED,
                "status": "in_progress", "model": body["model"], "output": [],
                "instructions": body.get("instructions"), "tools": body.get("tools") or [],
                "tool_choice": body.get("tool_choice") or "auto",
                "parallel_tool_calls": True, "store": body.get("store", True),
                "previous_response_id": body.get("previous_response_id"),
                "temperature": 1.0, "top_p": 1.0, "text": {"format": {"type": "text"}},
                "truncation": body.get("truncation") or "disabled", "usage": None,
                "error": None, "incomplete_details": None, "metadata": {}}
    sequence = iter(range(10**6))
    events: list[tuple[str, dict]] = []

    def emit(name: str, **fields) -> None:
        events.append((name, {"type": name, "sequence_number": next(sequence), **fields}))

    emit("response.created", response=dict(response))
    emit("response.in_progress", response=dict(response))
    items = body.get("input") if isinstance(body.get("input"), list) else []
    output: list[dict] = []
    if any(isinstance(t, dict) and t.get("type") == "web_search" for t in body.get("tools") or []):
        output.append(_web_search(emit, len(output)))
    call = _function_call(body, items)
    if call is not None:
        output.append(_call_item(emit, len(output), *call))
    else:
        output.append(_message(emit, len(output), _reply(body, items)))
    done = dict(response, status="completed", output=output, usage=_usage(body, items, output))
    emit("response.completed", response=done)
    return events


def _web_search(emit, index: int) -> dict:
    item = {"id": "ws_fake0", "type": "web_search_call", "status": "in_progress"}
    emit("response.output_item.added", output_index=index, item=dict(item))
    for phase in ("in_progress", "searching", "completed"):
        emit(f"response.web_search_call.{phase}", output_index=index, item_id=item["id"])
    item = dict(item, status="completed", action={"type": "search", "query": "fake"})
    emit("response.output_item.done", output_index=index, item=item)
    return item


def _message(emit, index: int, text: str) -> dict:
    item = {"id": f"msg_fake{index}", "type": "message", "role": "assistant",
            "status": "in_progress", "content": []}
    emit("response.output_item.added", output_index=index, item=dict(item))
    part = {"type": "output_text", "text": "", "annotations": []}
    emit("response.content_part.added", item_id=item["id"], output_index=index,
         content_index=0, part=part)
    for piece in re.findall(r"\S+\s*", text):
        emit("response.output_text.delta", item_id=item["id"], output_index=index,
             content_index=0, delta=piece, logprobs=[])
    emit("response.output_text.done", item_id=item["id"], output_index=index, content_index=0,
         text=text, logprobs=[])
    part = dict(part, text=text)
    emit("response.content_part.done", item_id=item["id"], output_index=index,
         content_index=0, part=part)
    item = dict(item, status="completed", content=[part])
    emit("response.output_item.done", output_index=index, item=item)
    return item


def _call_item(emit, index: int, name: str, arguments: str) -> dict:
    item = {"id": f"fc_fake{index}", "type": "function_call", "status": "in_progress",
            "call_id": f"call_fake{index}", "name": name, "arguments": ""}
    emit("response.output_item.added", output_index=index, item=dict(item))
    emit("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
         delta=arguments)
    emit("response.function_call_arguments.done", item_id=item["id"], output_index=index,
         arguments=arguments)
    item = dict(item, status="completed", arguments=arguments)
    emit("response.output_item.done", output_index=index, item=item)
    return item


def _function_call(body: dict, items: list) -> tuple[str, str] | None:
    """(name, arguments) of the ``tool-call`` model's call, or None (it answers in text)."""
    if body["model"] != "tool-call" or _tool_output(items) is not None:
        return None
    functions = [t for t in body.get("tools") or []
                 if isinstance(t, dict) and t.get("type") == "function"]
    if shell := _shell_call(functions):
        return shell
    name = functions[0].get("name") if functions else "lookup"
    return str(name), json.dumps({"query": _last_user(body, items)})


def _shell_call(functions: list[dict]) -> tuple[str, str] | None:
    """(name, arguments) calling the first function tool that takes a shell command (a coding
    agent's ``shell`` / ``exec_command``) with ``echo parlor-tool-ok``; None when there is none."""
    for tool in functions:
        schema = tool.get("parameters") if isinstance(tool.get("parameters"), dict) else {}
        for name in ("command", "cmd"):
            if name in (schema.get("required") or ()):
                kind = ((schema.get("properties") or {}).get(name) or {}).get("type")
                value = (["bash", "-lc", "echo parlor-tool-ok"] if kind == "array"
                         else "echo parlor-tool-ok")
                return str(tool.get("name")), json.dumps({name: value})
    return None


def _reply(body: dict, items: list) -> str:
    if body["model"] == "slow-stream":
        return "tick " * 500
    output = _tool_output(items)
    if body["model"] == "tool-call" and output is not None:
        return f"Tool said: {output}"
    return f"Echo: {_last_user(body, items)}"


def _tool_output(items: list) -> str | None:
    outputs = [i.get("output") for i in items
               if isinstance(i, dict) and i.get("type") == "function_call_output"]
    return str(outputs[-1]) if outputs else None


def _last_user(body: dict, items: list) -> str:
    if isinstance(body.get("input"), str):
        return body["input"]
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            return _text(item.get("content"))
    return ""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(str(p.get("text") or "") for p in content or [] if isinstance(p, dict))


def _usage(body: dict, items: list, output: list[dict]) -> dict:
    prompt = [body.get("instructions") or "", body["input"] if isinstance(body.get("input"), str)
              else ""] + [_text(i.get("content")) or str(i.get("output") or "")
                          for i in items if isinstance(i, dict)]
    input_tokens = sum(len(str(text).split()) for text in prompt)
    said = [_text(i.get("content")) if i["type"] == "message" else i.get("arguments", "")
            for i in output if i["type"] in ("message", "function_call")]
    output_tokens = sum(len(text.split()) for text in said)
    cached = len(str(body.get("prompt_cache_key") or "").split())
    return {"input_tokens": input_tokens, "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "input_tokens_details": {"cached_tokens": min(cached, input_tokens)},
            "output_tokens_details": {"reasoning_tokens": 0}}
