"""Google Gemini's wire format on the fake vendor server (the Generative Language API, under
``/v1`` or ``/v1beta``, told from OpenAI's paths by the ``x-goog-api-key`` header):

    ``POST /v1/models/{model}:generateContent``
    ``POST /v1/models/{model}:streamGenerateContent?alt=sse``  server-sent events, one
                        ``GenerateContentResponse`` per ``data:``; usage and finish on the last
    ``GET  /v1/models``                                     the model list (``models/...``)

The key comes in ``x-goog-api-key`` (or ``?key=``); a wrong one gets Gemini's own answer,
400 ``INVALID_ARGUMENT`` with the ``API_KEY_INVALID`` reason. Bodies are camelCase JSON as the
API sends them. Behaviour by model name, as on the other formats: ``error-<status>`` answers
that status with Google's error body, ``stall-midway`` streams two pieces, then stays silent
until the client hangs up, ``tool-call`` calls the first declared function with
``{"query": <last user text>}`` (once the conversation ends with a ``functionResponse``, it
answers with its result), anything else echoes the last user text (``maxOutputTokens`` words
at most, then ``MAX_TOKENS``).
"""

from __future__ import annotations

import json
import re

from tests.fakes import vendor_server

MODELS = re.compile(r"^/(v1|v1beta)/models")
STATUSES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
            404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
            504: "DEADLINE_EXCEEDED"}


def is_gemini(record) -> bool:
    """Gemini's paths (``/v1`` or ``/v1beta``), told from OpenAI's ``/v1/models`` by the key
    header or the ``:method`` of the path."""
    return bool(MODELS.match(record.path)) and (
        "x-goog-api-key" in record.headers or ":" in record.path or "key" in record.query)


def answer(handler, record) -> None:
    """Answer ``record`` on ``handler`` (the fake server's request handler) as Gemini would."""
    fake = handler.server.fake
    key = record.headers.get("x-goog-api-key") or (record.query.get("key") or [None])[0]
    if key != fake.api_key:
        return _error(handler, 400, "API key not valid. Please pass a valid API key.",
                      reason="API_KEY_INVALID")
    prefix = MODELS.match(record.path).group(0)
    if record.method == "GET" and record.path == prefix:
        return handler._json(200, {"models": [
            {"name": f"models/{m}", "displayName": m, "supportedGenerationMethods":
             ["generateContent", "countTokens"]} for m in fake.models]})
    match = re.fullmatch(re.escape(prefix) + r"/([^/:]+):(generateContent|streamGenerateContent)",
                         record.path)
    if record.method != "POST" or match is None:
        return _error(handler, 404, f"Unknown path {record.method} {record.path}")
    body = record.body
    if not isinstance(body, dict) or not isinstance(body.get("contents"), list):
        return _error(handler, 400, "* GenerateContentRequest.contents: contents is not "
                                    "specified")
    model, method = match.group(1), match.group(2)
    if status := re.fullmatch(r"error-(\d{3})", model):
        code = int(status.group(1))
        extra = {"retry-after": str(fake.retry_after)} if code == 429 else None
        return _error(handler, code, vendor_server._error_message(code, model), extra=extra)
    parts, finish, prompt = _plan(model, body)
    output = sum(vendor_server.count_tokens(p.get("text") or json.dumps(p)) for p in parts)
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": output,
             "totalTokenCount": prompt + output}
    if method == "generateContent":
        return handler._json(200, _response(model, parts, finish, usage))
    if (record.query.get("alt") or [None])[0] != "sse":
        return _error(handler, 400, "This fake speaks server-sent events only (alt=sse).")
    handler._headers(200, "text/event-stream", {"transfer-encoding": "chunked"})
    handler.end_headers()
    pieces = [{"text": t} for p in parts if "text" in p
              for t in vendor_server.words(p["text"])] + [p for p in parts if "text" not in p]
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        if model == "stall-midway" and i == 2:
            return vendor_server.go_silent(handler, model)
        chunk = _response(model, [piece], finish if last else None, usage if last else None)
        _write(handler, chunk)
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def _plan(model: str, body: dict) -> tuple[list[dict], str, int]:
    """The answer's parts, its finish reason and the prompt's tokens."""
    contents = body["contents"]
    texts = [p.get("text") or "" for c in contents for p in c.get("parts") or ()]
    system = body.get("systemInstruction") or {}
    texts += [p.get("text") or "" for p in system.get("parts") or ()]
    prompt = sum(vendor_server.count_tokens(t) for t in texts)
    last_user = next((p["text"] for c in reversed(contents) if c.get("role") == "user"
                      for p in c.get("parts") or () if p.get("text")), "")
    if model == "tool-call":
        last = (contents[-1].get("parts") or [{}])[-1] if contents else {}
        if "functionResponse" in last:
            result = last["functionResponse"].get("response") or {}
            return [{"text": f"Tool said: {result.get('result', result)}"}], "STOP", prompt
        declared = [d for t in body.get("tools") or () for d in t.get("functionDeclarations")
                    or ()]
        name = declared[0]["name"] if declared else "lookup"
        call = {"name": name, "args": {"query": last_user}, "id": "call_gemini_fake0"}
        return [{"functionCall": call}], "STOP", prompt
    text, finish = f"Echo: {last_user}", "STOP"
    limit = (body.get("generationConfig") or {}).get("maxOutputTokens")
    pieces = vendor_server.words(text)
    if isinstance(limit, int) and len(pieces) > limit:
        text, finish = "".join(pieces[:limit]), "MAX_TOKENS"
    return [{"text": text}], finish, prompt


def _response(model: str, parts: list[dict], finish: str | None, usage: dict | None) -> dict:
    candidate: dict = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out: dict = {"candidates": [candidate], "modelVersion": model,
                 "responseId": "gemini-fake-response"}
    if usage:
        out["usageMetadata"] = usage
    return out


def _write(handler, data: dict) -> None:
    raw = f"data: {json.dumps(data)}\r\n\r\n".encode()
    handler.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
    handler.wfile.flush()


def _error(handler, code: int, message: str, *, reason: str | None = None,
           extra: dict | None = None) -> None:
    error: dict = {"code": code, "message": message, "status": STATUSES.get(code, "UNKNOWN")}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                             "reason": reason, "domain": "googleapis.com"}]
    handler._json(code, {"error": error}, extra)
