"""A fake vendor upstream over real HTTP that speaks both OpenAI and Anthropic wire formats.

It runs a stdlib ``ThreadingHTTPServer`` (HTTP/1.1, daemon threads) on a free loopback port, so
the real ``openai`` / ``anthropic`` SDKs talk to it through their real HTTP stack.

Routes
    ``POST /v1/chat/completions``   OpenAI Chat Completions (plain and ``stream``)
    ``POST /v1/messages``           Anthropic Messages (plain and ``stream``)
    ``GET  /v1/models``             Anthropic shape when ``anthropic-version`` is sent, else OpenAI
    ``GET  /v1/models/{id}``        one model, or the protocol's 404
    ``POST /v1/messages/count_tokens``  ``{"input_tokens": N}`` (tests/fakes/anthropic_features.py)
    ``POST /v1/embeddings``         deterministic vectors (tests/fakes/embeddings.py)
    ``POST /v1/responses``          OpenAI Responses API (tests/fakes/responses_api.py)
    ``/openai/deployments/{d}/...`` Azure OpenAI (tests/fakes/azure.py)
    ``/{tenant}/oauth2/v2.0/token``  Microsoft Entra ID's client-credentials grant (azure.py)
    ``/v1/models/{m}:generateContent``  Google Gemini (tests/fakes/gemini.py)
    ``/model/{id}/converse[-stream]``   AWS Bedrock, SigV4-signed (tests/fakes/bedrock.py)

A request that repeats a header that may appear once (``SINGLETON_HEADERS``: aiohttp's list
plus the auth and version headers) gets the protocol's 400, as from a strict HTTP server.

Auth: ``x-api-key: <key>`` (wins when present, as on the real Anthropic API) or
``Authorization: Bearer <key>``. A wrong or missing key gets the protocol's 401 body.

Behaviour is chosen by the requested model name, so tests need no shared switches:

    any other name          "Echo: <last user text>" with usage; truncated to ``max_tokens``
                            words (finish ``length`` / ``max_tokens``) or at a stop sequence
    ``error-<status>``      that status with the protocol's exact error body
                            (``error-429`` adds ``retry-after``: ``FakeVendorServer.retry_after``,
                            or N with ``error-429-after-N``)
    ``slow-first-byte``     sleeps ``slow_first_byte_delay`` (or N: ``slow-first-byte-N``) before
                            the status line, then answers as echo
    ``cut-stream``          streams a few events, then closes the socket mid chunked body
    ``stream-error``        streams a few events, then an in-band error event, then ends the body
    ``tool-call``           calls the first offered tool (or ``lookup``) with ``{"query": <text>}``
                            (``{"input": <text>}`` when that is its one required argument)
                            (a tool that requires ``command`` / ``cmd``, a coding agent's shell,
                            is called first, with ``echo parlor-tool-ok``); once the
                            conversation holds a tool result, answers with its text
    ``parallel-tool-calls`` calls every offered tool
    ``length``              stops after two words (fewer with a smaller ``max_tokens``) with
                            ``length`` / ``max_tokens``
    ``flaky-N[-anything]``  the first N requests for that exact model name, per reset, fail with
                            503 (OpenAI) or 529 ``overloaded_error`` (Anthropic); then echo
    ``slow-stream``         streams many words ``chunk_delay`` apart; a client that hangs up is
                            recorded in ``disconnects``
    ``*thinking*``, ``*reasoning*``  reasoning before the text (also on request: thinking /
                            reasoning_effort), and prompt-cache usage (tests/fakes/reasoning.py)
    ``*redacted*``          a redacted_thinking block too (tests/fakes/anthropic_features.py)
    ``*vision*``            as echo, each image or document part counted as
                            ``MEDIA_PART_TOKENS`` input tokens (as a vision model bills them)
    JSON output             response_format, or an Anthropic forced tool, answered with JSON
                            fitting the schema (tests/fakes/structured.py)

Streams use chunked transfer-encoding and are flushed after every event; the body ends right
after the terminator (``data: [DONE]`` or ``message_stop``). Every request is recorded in
``requests`` (see :class:`RecordedRequest`); :meth:`FakeVendorServer.reset` clears the records,
the flaky counters and restores the tunables.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes import (
    anthropic_features,
    azure,
    bedrock,
    embeddings,
    gemini,
    reasoning,
    responses_api,
    structured,
)

DEFAULT_API_KEY = "sk-fake-0123456789abcdef"
DEFAULT_MODELS = ("fake-chat", "fake-large", "tool-call")
CREATED = 1_700_000_000
MEDIA_PART_TOKENS = 1000  # input tokens of an image or document for ``*vision*`` models
STREAM_PREFIX_EVENTS = 2  # deltas sent before a cut or an in-band error
# Headers a request may carry once: aiohttp's singletons, plus the ones the vendors read.
SINGLETON_HEADERS = frozenset({
    "content-length", "content-location", "content-range", "content-type", "etag", "host",
    "max-forwards", "server", "transfer-encoding", "user-agent", "accept", "authorization",
    "x-api-key", "anthropic-version"})

OPENAI_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
REASONS = {
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 408: "Request Timeout", 409: "Conflict", 413: "Payload Too Large",
    422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 529: "Overloaded",
}
ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                  "stop_sequence": "stop_sequence"}


def count_tokens(text: str) -> int:
    """The fake's tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def words(text: str) -> list[str]:
    """Stream pieces: each word with the whitespace that follows it."""
    return re.findall(r"\S+\s*", text)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: Any  # the parsed JSON body, or None
    client_port: int = 0  # the caller's side of the connection: equal ports, one connection
    header_names: tuple[str, ...] = ()  # every header line's name in lower case, repeats kept

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def protocol(self) -> str:
        if self.path.startswith("/v1/messages") or "anthropic-version" in self.headers:
            return "anthropic"
        return "openai"


@dataclass
class _Plan:
    """What to answer, independent of the wire format."""

    model: str
    text: str
    finish: str  # stop | length | tool_calls | stop_sequence
    input_tokens: int
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)  # id, name, arguments
    stop_sequence: str | None = None
    piece_delay: float = 0.0
    reasoning: bool = False  # reasoning before the text (tests/fakes/reasoning.py)
    cache_read: int = 0  # of input_tokens
    cache_write: int = 0

    @property
    def pieces(self) -> list[str]:
        return words(self.text)

    @property
    def output_tokens(self) -> int:
        return count_tokens(self.text) + sum(
            count_tokens(f"{name} {arguments}") for _, name, arguments in self.tool_calls)


class _Cut(Exception):
    """Raised inside a stream writer to drop the connection without ending the body."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    # A real vendor takes a burst of connections at once; socketserver's default backlog of 5
    # drops some of 50 streams opened together (their calls then fail as unreachable).
    request_queue_size = 1024

    def __init__(self, fake: FakeVendorServer):
        self.fake = fake
        super().__init__((fake.host, fake.requested_port), _Handler)

    def handle_error(self, request, client_address):  # a client that hangs up is normal here
        pass


class FakeVendorServer:
    """The fake upstream. Use :meth:`start` / :meth:`stop`, or ``with FakeVendorServer() as f``."""

    def __init__(self, api_key: str = DEFAULT_API_KEY, *, host: str = "127.0.0.1",
                 port: int = 0, models: tuple[str, ...] = DEFAULT_MODELS):
        self.default_api_key = api_key
        self.api_key = api_key
        self.host = host
        self.requested_port = port
        self.default_models = tuple(models)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._generation = 0
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeVendorServer:
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fake-vendor-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> FakeVendorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget recorded requests, disconnects and flaky counters; restore the tunables."""
        with self._lock:
            self._generation += 1  # streams begun before the reset no longer count
            self._requests: list[RecordedRequest] = []
            self._attempts: dict[str, int] = {}
            self._disconnects: list[str] = []
            self.prompt_cache = reasoning.PromptCache()
        self.models = list(self.default_models)
        self.api_key = self.default_api_key  # a test may have set another
        self.retry_after = "1"  # seconds, as sent by error-429
        self.slow_first_byte_delay = 1.0  # seconds, for slow-first-byte
        self.chunk_delay = 0.02  # seconds between the words of slow-stream

    # -- addresses ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake vendor server is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    # -- records ------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self._requests[-1]

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.model == model]

    @property
    def disconnects(self) -> list[str]:
        """Models of streams whose client hung up before the body ended."""
        with self._lock:
            return list(self._disconnects)

    def wait_for_disconnect(self, model: str, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if model in self.disconnects:
                return True
            time.sleep(0.01)
        return False

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _attempt(self, model: str) -> int:
        with self._lock:
            self._attempts[model] = self._attempts.get(model, 0) + 1
            return self._attempts[model]

    def _disconnected(self, model: str, generation: int) -> None:
        with self._lock:
            if generation == self._generation:  # not a stream left over from an earlier test
                self._disconnects.append(model)

    def _next_id(self) -> int:
        return next(self._ids)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeVendor/1.0"
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    # -- entry points -------------------------------------------------------------------------

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server.fake
        self.request_id = f"req_fake{fake._next_id():06d}"
        self.generation = fake._generation
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        headers = {k.lower(): v for k, v in self.headers.items()}
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.raw_body = raw  # as sent: AWS signatures cover the body's bytes
        body, bad_json = None, False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        record = RecordedRequest(self.command, path, parse_qs(split.query), headers, body,
                                 client_port=self.client_address[1],
                                 header_names=tuple(k.lower() for k in self.headers.keys()))
        fake._record(record)
        self.wire = record.protocol
        try:
            self._route(record, bad_json)
        except _Cut:
            self.close_connection = True
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _route(self, record: RecordedRequest, bad_json: bool) -> None:
        fake = self.server.fake
        if bedrock.is_bedrock(record):  # AWS Bedrock's Converse, SigV4 (tests/fakes/bedrock.py)
            return bedrock.answer(self, record, self.raw_body)
        if gemini.is_gemini(record):  # Google Gemini's own format (tests/fakes/gemini.py)
            return gemini.answer(self, record)
        if azure.is_token_request(record):  # Entra ID's token endpoint (tests/fakes/azure.py)
            return azure.answer_token(self, record, self.raw_body)
        if azure.is_azure(record):  # Azure OpenAI's paths and header (tests/fakes/azure.py)
            if azure.missing_version(record):
                return self._json(404, azure.MISSING_VERSION)
            record = azure.as_openai(record, fake.api_key)
        repeated = sorted({n for n in record.header_names if n in SINGLETON_HEADERS
                           and record.header_names.count(n) > 1})
        if repeated:  # as strict servers (aiohttp's parser) do
            return self._error(400, f"Duplicate header(s): {', '.join(repeated)}")
        presented = record.headers.get("x-api-key")
        if presented is None:
            auth = record.headers.get("authorization", "")
            presented = auth[7:] if auth.lower().startswith("bearer ") else None
        if presented != fake.api_key:
            return self._auth_error(presented)
        path = record.path
        if record.method == "GET" and path == "/v1/models":
            return self._model_list()
        if record.method == "GET" and path.startswith("/v1/models/"):
            return self._model(unquote(path.removeprefix("/v1/models/")))
        if record.method == "POST" and path == "/v1/messages/count_tokens":
            body = record.body if isinstance(record.body, dict) else {}
            return self._json(200, anthropic_features.count_tokens(body))
        if record.method == "POST" and path == "/v1/embeddings":
            status, answer = embeddings.answer(record.body)
            return self._json(200, answer) if status == 200 else self._error(status, answer)
        if record.method == "POST" and path == "/v1/responses":  # tests/fakes/responses_api.py
            return responses_api.answer(self, record.body)
        if record.method == "POST" and path in ("/v1/chat/completions", "/v1/messages"):
            body = record.body
            if bad_json or not isinstance(body, dict):
                return self._error(400, "The request body is not valid JSON.")
            if not isinstance(body.get("model"), str) or not isinstance(body.get("messages"), list):
                return self._error(400, "model and messages are required.")
            if self.wire == "anthropic" and not isinstance(body.get("max_tokens"), int):
                return self._error(400, "max_tokens: Field required")
            return self._chat(body)
        return self._error(404, f"Unknown path {record.method} {path}")

    # -- responses ----------------------------------------------------------------------------

    def _headers(self, status: int, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status, REASONS.get(status))
        self.send_header("content-type", content_type)
        self.send_header("x-request-id", self.request_id)
        self.send_header("request-id", self.request_id)
        for name, value in (extra or {}).items():
            self.send_header(name, value)

    def _json(self, status: int, payload: Any, extra: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self._headers(status, "application/json", extra)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _error(self, status: int, message: str, *, extra: dict | None = None) -> None:
        """The protocol's exact error body for ``status``."""
        if self.wire == "anthropic":
            payload = {
                "type": "error",
                "error": {"type": ANTHROPIC_ERROR_TYPES.get(status, "api_error"),
                          "message": message},
                "request_id": self.request_id,
            }
        else:
            kind, code = OPENAI_ERROR_TYPES.get(
                status, ("server_error" if status >= 500 else "invalid_request_error", None))
            payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self._json(status, payload, extra)

    def _auth_error(self, presented: str | None) -> None:
        # The presented key is echoed on purpose (OpenAI does, partly masked), so that the
        # adapters' secret scrubbing is exercised.
        if self.wire == "anthropic":
            message = "invalid x-api-key" if presented is None else f"invalid x-api-key {presented}"
        elif presented is None:
            message = ("You didn't provide an API key. You need to provide your API key in an "
                       "Authorization header using Bearer auth "
                       "(i.e. Authorization: Bearer YOUR_KEY).")
        else:
            message = (f"Incorrect API key provided: {presented}. You can find your API key at "
                       "https://platform.openai.com/account/api-keys.")
        self._error(401, message)

    def _model_list(self) -> None:
        models = self.server.fake.models
        if self.wire == "anthropic":
            data = [_anthropic_model(m) for m in models]
            self._json(200, {"data": data, "has_more": False,
                             "first_id": models[0] if models else None,
                             "last_id": models[-1] if models else None})
        else:
            self._json(200, {"object": "list", "data": [_openai_model(m) for m in models]})

    def _model(self, model_id: str) -> None:
        if model_id not in self.server.fake.models:
            if self.wire == "anthropic":
                return self._error(404, f"model: {model_id}")
            return self._error(404, f"The model '{model_id}' does not exist")
        self._json(200, _anthropic_model(model_id) if self.wire == "anthropic"
                   else _openai_model(model_id))

    # -- chat ---------------------------------------------------------------------------------

    def _chat(self, body: dict) -> None:
        fake = self.server.fake
        model = body["model"]
        anthropic = self.wire == "anthropic"

        if match := re.fullmatch(r"error-(\d{3})(?:-after-(\d+(?:\.\d+)?))?", model):
            status = int(match.group(1))
            extra = {}
            if status == 429:
                extra["retry-after"] = match.group(2) or fake.retry_after
            return self._error(status, _error_message(status, model), extra=extra)
        if match := re.fullmatch(r"flaky-(\d+)(?:-.*)?", model):
            if fake._attempt(model) <= int(match.group(1)):
                if anthropic:
                    return self._error(529, "Overloaded")
                return self._error(503, "The server is overloaded or not ready yet.")
        if match := re.fullmatch(r"slow-first-byte(?:-(\d+(?:\.\d+)?))?", model):
            time.sleep(float(match.group(1)) if match.group(1) else fake.slow_first_byte_delay)

        if anthropic and (message := reasoning.bad_signature(body)
                          or anthropic_features.bad_redacted(body)):
            return self._error(400, message)
        plan = _plan(body, anthropic)
        plan.reasoning = reasoning.wants_reasoning(body, anthropic)
        plan.cache_read, plan.cache_write = fake.prompt_cache.usage(body, anthropic,
                                                                    plan.input_tokens)
        if model == "slow-stream":
            plan.text = "tick " * 500
            plan.finish, plan.piece_delay = "stop", fake.chunk_delay

        if not body.get("stream"):
            if model in ("cut-stream", "stream-error"):  # no stream to break: a plain 500
                return self._error(500, "The server had an error while processing your request.")
            payload = _anthropic_message(plan) if anthropic else _openai_completion(plan)
            return self._json(200, payload)

        mode = {"cut-stream": "cut", "stream-error": "error"}.get(model)
        events = _anthropic_events(plan) if anthropic else _openai_events(
            plan, bool((body.get("stream_options") or {}).get("include_usage")))
        self._stream(events, plan, mode)

    def _stream(self, events, plan: _Plan, mode: str | None) -> None:
        self._headers(200, "text/event-stream; charset=utf-8",
                      {"transfer-encoding": "chunked", "cache-control": "no-cache"})
        self.end_headers()
        deltas_sent = 0
        try:
            for name, data, kind in events:
                if mode and (kind == "end" or (kind == "delta"
                                               and deltas_sent == STREAM_PREFIX_EVENTS)):
                    if mode == "cut":
                        raise _Cut
                    self._write_event(*_stream_error(self.wire))
                    break
                if kind == "delta" and plan.piece_delay:
                    time.sleep(plan.piece_delay)
                self._write_event(name, data)
                deltas_sent += kind == "delta"
            self.wfile.write(b"0\r\n\r\n")  # the last chunk: the body ends here
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.server.fake._disconnected(plan.model, self.generation)
            raise

    def _write_event(self, name: str | None, data: Any) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        frame = (f"event: {name}\n" if name else "") + f"data: {text}\n\n"
        raw = frame.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
        self.wfile.flush()


# -- plans ------------------------------------------------------------------------------------


def go_silent(handler, model: str) -> None:
    """Send nothing more until the client hangs up (recorded in ``disconnects``): a stream that
    stalls after a good start (``stall-midway`` on the Gemini and Bedrock formats)."""
    handler.connection.settimeout(30)
    try:
        while handler.connection.recv(1024):
            pass
    except OSError:
        pass
    handler.server.fake._disconnected(model, handler.generation)
    handler.close_connection = True


def _text_of(content: Any) -> str:
    """The text of a message's content: a string or a list of OpenAI parts / Anthropic blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                out.append(part.get("text", ""))
            elif isinstance(part, dict) and part.get("type") == "tool_result":
                out.append(_text_of(part.get("content")))
        return " ".join(t for t in out if t)
    return ""


def _tool_result(body: dict, anthropic: bool) -> str | None:
    """The text of the last tool result, if the conversation ends with one."""
    messages = body.get("messages") or []
    if not messages:
        return None
    last = messages[-1]
    if anthropic:
        content = last.get("content")
        if last.get("role") == "user" and isinstance(content, list):
            results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if results:
                return " ".join(_text_of(b.get("content")) for b in results)
        return None
    if last.get("role") == "tool":
        return _text_of(last.get("content"))
    return None


def _media_parts(messages: list) -> int:
    """Image and document parts/blocks in the messages (either wire format)."""
    kinds = {"image", "image_url", "document", "file"}
    return sum(1 for m in messages if isinstance(m, dict) and isinstance(m.get("content"), list)
               for part in m["content"] if isinstance(part, dict) and part.get("type") in kinds)


def _plan(body: dict, anthropic: bool) -> _Plan:
    messages = body.get("messages") or []
    model = body["model"]
    prompt = [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    if anthropic:
        prompt.append(_text_of(body.get("system")))
    input_tokens = sum(count_tokens(t) for t in prompt)
    if "vision" in model:
        input_tokens += MEDIA_PART_TOKENS * _media_parts(messages)
    last_user = next((_text_of(m.get("content")) for m in reversed(messages)
                      if isinstance(m, dict) and m.get("role") == "user"
                      and _text_of(m.get("content"))), "")

    if model in ("tool-call", "parallel-tool-calls"):
        result = _tool_result(body, anthropic)
        if result is None:
            tools = body.get("tools") or []
            names = [(t.get("function") or {}).get("name") if not anthropic else t.get("name")
                     for t in tools] or ["lookup"]
            names = names if model == "parallel-tool-calls" else names[:1]
            prefix = "toolu_fake" if anthropic else "call_fake"
            calls = [(f"{prefix}{i}", name, json.dumps({_argument_name(tools, name,
                                                                      anthropic): last_user}))
                     for i, name in enumerate(names)]
            if model == "tool-call" and (shell := _shell_call(tools, anthropic)):
                calls = [(f"{prefix}0", *shell)]  # an agent's shell tool: run a command
            text = "Let me check." if anthropic else ""
            return _Plan(model, text, "tool_calls", input_tokens, tool_calls=calls)
        return _Plan(model, f"Tool said: {result}", "stop", input_tokens)

    if anthropic and (forced := structured.anthropic_forced_tool(body, last_user)):
        return _Plan(model, "", "tool_calls", input_tokens,
                     tool_calls=[("toolu_fake0", forced[0], forced[1])])
    if not anthropic and (answer := structured.openai_json_answer(body, last_user)):
        return _Plan(model, answer, "stop", input_tokens)
    text, finish, matched = f"Echo: {last_user}", "stop", None
    stops = body.get("stop_sequences") if anthropic else body.get("stop")
    for stop in [stops] if isinstance(stops, str) else (stops or []):
        if stop and stop in text:
            text, finish, matched = text[: text.index(stop)], "stop_sequence", stop
    limit = body.get("max_tokens") if anthropic else (
        body.get("max_completion_tokens") or body.get("max_tokens"))
    pieces = words(text)
    if model == "length":  # runs out after two words at most, whatever max_tokens says
        limit = max(1, min(limit or 2, 2, len(pieces) - 1))
    if isinstance(limit, int) and len(pieces) > limit:
        text, finish, matched = "".join(pieces[:limit]), "length", None
    if finish == "stop_sequence" and not anthropic:
        finish = "stop"
    return _Plan(model, text, finish, input_tokens, stop_sequence=matched)


def _argument_name(tools: list, name: str | None, anthropic: bool) -> str:
    """``query``, or ``input`` for a tool whose one required argument it is (a Responses
    client's custom tool, such as Codex's apply_patch, as Parlor translates it)."""
    for tool in tools:
        function = tool if anthropic else (tool.get("function") or {})
        if function.get("name") == name:
            schema = function.get("input_schema" if anthropic else "parameters") or {}
            if schema.get("required") == ["input"]:
                return "input"
    return "query"


def _shell_call(tools: list, anthropic: bool) -> tuple[str, str] | None:
    """(name, arguments) calling the first offered tool that takes a shell command (a coding
    agent's Bash or exec_command) with ``echo parlor-tool-ok``; None when there is none."""
    for tool in tools:
        schema = tool.get("input_schema") if anthropic else (
            (tool.get("function") or {}).get("parameters") if tool.get("type") == "function"
            else tool.get("parameters"))
        schema = schema if isinstance(schema, dict) else {}
        for field_name in ("command", "cmd"):
            if field_name in (schema.get("required") or ()):
                kind = ((schema.get("properties") or {}).get(field_name) or {}).get("type")
                value = (["bash", "-lc", "echo parlor-tool-ok"] if kind == "array"
                         else "echo parlor-tool-ok")
                name = tool.get("name") if anthropic or tool.get("type") != "function" else (
                    tool.get("function") or {}).get("name")
                return str(name), json.dumps({field_name: value})
    return None


def _error_message(status: int, model: str) -> str:
    return {
        400: f"Invalid request for model {model}: messages.0.content is malformed.",
        401: "Invalid authentication credentials.",
        404: f"The model `{model}` does not exist or you do not have access to it.",
        429: "Rate limit reached for requests. Please try again later.",
        500: "The server had an error while processing your request.",
        503: "The server is overloaded or not ready yet.",
        529: "Overloaded",
    }.get(status, f"Upstream error {status}.")


def _stream_error(protocol: str) -> tuple[str | None, dict]:
    if protocol == "anthropic":
        return "error", {"type": "error",
                         "error": {"type": "overloaded_error", "message": "Overloaded"}}
    return None, {"error": {"message": "The server had an error while streaming.",
                            "type": "server_error", "param": None, "code": None}}


def _openai_model(model: str) -> dict:
    return {"id": model, "object": "model", "created": CREATED, "owned_by": "fake-vendor"}


def _anthropic_model(model: str) -> dict:
    return {"type": "model", "id": model, "display_name": model.replace("-", " ").title(),
            "created_at": "2025-01-01T00:00:00Z"}


def _split(text: str, size: int = 6) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


# -- OpenAI rendering -------------------------------------------------------------------------


def _openai_usage(plan: _Plan) -> dict:
    return {"prompt_tokens": plan.input_tokens, "completion_tokens": plan.output_tokens,
            "total_tokens": plan.input_tokens + plan.output_tokens,
            "prompt_tokens_details": {"cached_tokens": plan.cache_read},
            "completion_tokens_details": {"reasoning_tokens": 0}}


def _openai_completion(plan: _Plan) -> dict:
    message: dict = {"role": "assistant", "content": plan.text or None, "refusal": None}
    if plan.reasoning:
        message["reasoning_content"] = "".join(reasoning.openai_reasoning_pieces())
    if plan.tool_calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in plan.tool_calls
        ]
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": CREATED,
        "model": plan.model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": plan.finish}],
        "usage": _openai_usage(plan), "system_fingerprint": None, "service_tier": "default",
    }


def _openai_events(plan: _Plan, include_usage: bool):
    """(event name, data, kind) for an OpenAI stream; kind: delta, end or meta."""

    def chunk(delta: dict, finish: str | None = None) -> dict:
        out = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": CREATED,
               "model": plan.model, "system_fingerprint": None,
               "choices": [{"index": 0, "delta": delta, "logprobs": None,
                            "finish_reason": finish}]}
        if include_usage:
            out["usage"] = None
        return out

    yield None, chunk({"role": "assistant", "content": "", "refusal": None}), "meta"
    for piece in reasoning.openai_reasoning_pieces() if plan.reasoning else ():
        yield None, chunk({"reasoning_content": piece}), "delta"
    for piece in plan.pieces:
        yield None, chunk({"content": piece}), "delta"
    for k, (cid, name, args) in enumerate(plan.tool_calls):
        yield None, chunk({"tool_calls": [{"index": k, "id": cid, "type": "function",
                                           "function": {"name": name, "arguments": ""}}]}), "delta"
        for piece in _split(args):
            fragment = {"index": k, "function": {"arguments": piece}}
            yield None, chunk({"tool_calls": [fragment]}), "delta"
    yield None, chunk({}, plan.finish), "end"
    if include_usage:
        yield None, {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": CREATED,
                     "model": plan.model, "system_fingerprint": None, "choices": [],
                     "usage": _openai_usage(plan)}, "meta"
    yield None, "[DONE]", "meta"


# -- Anthropic rendering ----------------------------------------------------------------------


def _anthropic_message(plan: _Plan) -> dict:
    content: list[dict] = reasoning.anthropic_thinking_blocks() if plan.reasoning else []
    content += anthropic_features.redacted_blocks(plan.model)
    content += [{"type": "text", "text": plan.text}] if plan.text else []
    content += [{"type": "tool_use", "id": cid, "name": name, "input": json.loads(args)}
                for cid, name, args in plan.tool_calls]
    return {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": plan.model,
        "content": content, "stop_reason": ANTHROPIC_STOP[plan.finish],
        "stop_sequence": plan.stop_sequence,
        "usage": _anthropic_usage(plan, plan.output_tokens),
    }


def _anthropic_usage(plan: _Plan, output_tokens: int) -> dict:
    """Anthropic's input_tokens leave out the cached ones (wire-protocols §4.2)."""
    return {"input_tokens": plan.input_tokens - plan.cache_read - plan.cache_write,
            "output_tokens": output_tokens, "cache_creation_input_tokens": plan.cache_write,
            "cache_read_input_tokens": plan.cache_read}


def _anthropic_events(plan: _Plan):
    """(event name, data, kind) for an Anthropic stream; kind: delta, end or meta."""
    yield "message_start", {"type": "message_start", "message": {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": plan.model,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": _anthropic_usage(plan, 1)}}, "meta"
    yield "ping", {"type": "ping"}, "meta"
    index = 0
    if plan.reasoning:
        yield from reasoning.anthropic_thinking_events(index)
        index += 1
    for block in anthropic_features.redacted_blocks(plan.model):
        yield from anthropic_features.block_events(block, index)
        index += 1
    if plan.pieces:
        yield "content_block_start", {"type": "content_block_start", "index": index,
                                      "content_block": {"type": "text", "text": ""}}, "meta"
        for piece in plan.pieces:
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "text_delta", "text": piece}}, "delta"
        yield "content_block_stop", {"type": "content_block_stop", "index": index}, "meta"
        index += 1
    for cid, name, args in plan.tool_calls:
        yield "content_block_start", {"type": "content_block_start", "index": index,
                                      "content_block": {"type": "tool_use", "id": cid,
                                                        "name": name, "input": {}}}, "meta"
        for piece in ["", *_split(args)]:
            yield "content_block_delta", {
                "type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": piece}}, "delta"
        yield "content_block_stop", {"type": "content_block_stop", "index": index}, "meta"
        index += 1
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": ANTHROPIC_STOP[plan.finish],
                                      "stop_sequence": plan.stop_sequence},
                            "usage": {"output_tokens": plan.output_tokens}}, "end"
    yield "message_stop", {"type": "message_stop"}, "meta"
