"""A recording stand-in for the Anthropic and OpenAI APIs, to learn what coding agents send.

Every request is written as one JSON file (method, path, query, headers, body) into a log
folder; the answers are the smallest a real agent accepts for a turn with one tool call:

    POST /v1/messages[?beta=true]   Anthropic Messages (SSE or JSON): a ``Bash`` tool_use with
                                    ``{"command": "echo parlor-tool-ok"}`` until the last user
                                    turn holds a tool_result, then text quoting that result
    POST /v1/messages/count_tokens  ``{"input_tokens": <words>}``
    POST /v1/responses              Responses API SSE: a shell function call (``shell``,
                                    ``exec_command`` or ``local_shell``, whichever is offered),
                                    then text quoting the ``function_call_output``
    GET  /v1/models                 both vendors' list shapes merged

Run: ``python tests/agents/recorder.py --port 8765 --log /tmp/agent-log`` and point an agent's
base URL at it. Not part of the test run; the tests go through Parlor to the fake vendor.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

TOOL_COMMAND = "echo parlor-tool-ok"
FINAL_PREFIX = "parlor-agent-done:"
CREATED = 1_700_000_000


class Recorder(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, log_dir: Path):
        self.log_dir = log_dir
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        log_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(("127.0.0.1", port), Handler)

    def save(self, entry: dict) -> None:
        """Write one request as ``NNN-<method>-<path>.json``."""
        with self.lock:
            number = next(self.counter)
        name = entry["path"].strip("/").replace("/", "_") or "root"
        path = self.log_dir / f"{number:03d}-{entry['method']}-{name}.json"
        path.write_text(json.dumps(entry, indent=2, ensure_ascii=False))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def log_message(self, format, *args):  # noqa: A002 - the JSON files are the log
        pass

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_HEAD(self):
        self._handle()

    def _handle(self) -> None:
        split = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")[:2000]}
        self.server.save({"time": time.time(), "method": self.command, "path": split.path,
                          "query": parse_qs(split.query),
                          "headers": [[k, v] for k, v in self.headers.items()], "body": body})
        path = split.path.rstrip("/")
        if path == "/v1/messages/count_tokens":
            return self._json({"input_tokens": len(json.dumps(body or {}).split())})
        if path == "/v1/messages" and isinstance(body, dict):
            return self._messages(body)
        if path == "/v1/responses" and isinstance(body, dict):
            return self._responses(body)
        if path == "/v1/models":
            return self._json({"object": "list", "has_more": False, "data": [
                {"id": m, "object": "model", "type": "model", "created": CREATED,
                 "owned_by": "recorder", "display_name": m,
                 "created_at": "2025-01-01T00:00:00Z"} for m in ("recorded-model",)]})
        self._json({"error": {"type": "not_found_error", "message": f"no {path}"}}, status=404)

    # -- plumbing -------------------------------------------------------------------------------

    def _json(self, payload: dict, status: int = 200) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.send_header("request-id", "req_recorder")
        self.send_header("x-request-id", "req_recorder")
        self.end_headers()
        self.wfile.write(raw)

    def _sse(self, events) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", "req_recorder")
        self.end_headers()
        for name, data in events:
            frame = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- Anthropic Messages --------------------------------------------------------------------

    def _messages(self, body: dict) -> None:
        result = anthropic_tool_result(body)
        offered = {t.get("name") for t in body.get("tools") or []}
        if result is None and "Bash" in offered:
            blocks = [{"type": "tool_use", "id": "toolu_rec1", "name": "Bash",
                       "input": {"command": TOOL_COMMAND, "description": "Print a marker"}}]
            stop = "tool_use"
        else:
            text = f"{FINAL_PREFIX} {result}" if result is not None else "recorder says hi"
            blocks, stop = [{"type": "text", "text": text}], "end_turn"
        message = {"id": "msg_rec", "type": "message", "role": "assistant",
                   "model": body.get("model"), "content": blocks, "stop_reason": stop,
                   "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5,
                                                    "cache_creation_input_tokens": 0,
                                                    "cache_read_input_tokens": 0}}
        if not body.get("stream"):
            return self._json(message)
        self._sse(anthropic_events(message))

    # -- OpenAI Responses ----------------------------------------------------------------------

    def _responses(self, body: dict) -> None:
        output = responses_output(body)
        response = {"id": f"resp_rec{int(time.time() * 1000)}", "object": "response",
                    "created_at": int(time.time()), "status": "in_progress",
                    "model": body.get("model"), "output": [], "usage": None}
        if not body.get("stream"):
            done = {**response, "status": "completed", "output": output,
                    "usage": responses_usage()}
            return self._json(done)
        self._sse(responses_events(response, output))


def anthropic_tool_result(body: dict) -> str | None:
    """The text of the tool_result blocks in the last user turn, or None."""
    messages = body.get("messages") or []
    if not messages or not isinstance(messages[-1].get("content"), list):
        return None
    texts = []
    for block in messages[-1]["content"]:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                content = " ".join(b.get("text", "") for b in content if isinstance(b, dict))
            texts.append(str(content or ""))
    return " ".join(texts) if texts else None


def anthropic_events(message: dict):
    """The SSE events of a streamed Anthropic message with ``message``'s blocks."""
    start = {**message, "content": [], "stop_reason": None}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "text", "text": ""}}
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "text_delta", "text": block["text"]}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {**block, "input": {}}}
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "input_json_delta",
                                                    "partial_json": json.dumps(block["input"])}}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": message["stop_reason"],
                                      "stop_sequence": None},
                            "usage": {"output_tokens": 5}}
    yield "message_stop", {"type": "message_stop"}


def function_call_output(body: dict) -> str | None:
    """The output of the last ``function_call_output`` / ``local_shell_call_output`` item."""
    items = body.get("input")
    if not isinstance(items, list) or not items:
        return None
    last = items[-1]
    if isinstance(last, dict) and last.get("type", "").endswith("call_output"):
        output = last.get("output")
        return output if isinstance(output, str) else json.dumps(output)
    return None


def responses_output(body: dict) -> list[dict]:
    """One shell call (for whichever shell tool is offered) or, after its output, a message."""
    result = function_call_output(body)
    tools = {t.get("name") or t.get("type"): t for t in body.get("tools") or []}
    if result is None:
        if "exec_command" in tools:
            return [function_call("exec_command", {"cmd": TOOL_COMMAND})]
        if "shell" in tools:
            return [function_call("shell", {"command": ["bash", "-lc", TOOL_COMMAND]})]
        if "shell_command" in tools:
            return [function_call("shell_command", {"command": TOOL_COMMAND})]
        if "local_shell" in tools:
            return [{"type": "local_shell_call", "id": "lsh_rec1", "call_id": "call_rec1",
                     "status": "completed", "action": {"type": "exec", "timeout_ms": 10000,
                                                       "command": ["bash", "-lc", TOOL_COMMAND]}}]
    text = f"{FINAL_PREFIX} {result}" if result is not None else "recorder says hi"
    return [{"type": "message", "id": "msg_rec1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": text, "annotations": []}]}]


def function_call(name: str, arguments: dict) -> dict:
    return {"type": "function_call", "id": "fc_rec1", "call_id": "call_rec1", "name": name,
            "arguments": json.dumps(arguments), "status": "completed"}


def responses_usage() -> dict:
    return {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0}}


def responses_events(response: dict, output: list[dict]):
    """The Responses API event sequence for ``output``, ending in ``response.completed``."""
    sequence = itertools.count()

    def event(kind: str, **fields):
        return kind, {"type": kind, "sequence_number": next(sequence), **fields}

    yield event("response.created", response=response)
    yield event("response.in_progress", response=response)
    for index, item in enumerate(output):
        if item["type"] == "message":
            text = item["content"][0]["text"]
            yield event("response.output_item.added", output_index=index,
                        item={**item, "status": "in_progress", "content": []})
            part = {"type": "output_text", "text": "", "annotations": []}
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            yield event("response.content_part.added", **where, part=part)
            yield event("response.output_text.delta", **where, delta=text)
            yield event("response.output_text.done", **where, text=text)
            yield event("response.content_part.done", **where, part={**part, "text": text})
        elif item["type"] == "function_call":
            yield event("response.output_item.added", output_index=index,
                        item={**item, "status": "in_progress", "arguments": ""})
            where = {"item_id": item["id"], "output_index": index}
            yield event("response.function_call_arguments.delta", **where,
                        delta=item["arguments"])
            yield event("response.function_call_arguments.done", **where,
                        arguments=item["arguments"])
        else:
            yield event("response.output_item.added", output_index=index, item=item)
        yield event("response.output_item.done", output_index=index, item=item)
    yield event("response.completed", response={**response, "status": "completed",
                                                "output": output, "usage": responses_usage()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    Recorder(args.port, args.log).serve_forever()


if __name__ == "__main__":
    main()
