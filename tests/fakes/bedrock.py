"""AWS Bedrock's Converse API on the fake vendor server, signed and framed as AWS does it.

    ``POST /model/{modelId}/converse``         one ``ConverseResponse`` (JSON)
    ``POST /model/{modelId}/converse-stream``  ``application/vnd.amazon.eventstream``: binary
                        event-stream messages (prelude, headers, payload, two CRC32s), one per
                        event: messageStart, contentBlockStart/Delta/Stop, messageStop, metadata
    ``GET  /foundation-models``                the control plane's model list

Every request must carry a SigV4 signature (``AWS4-HMAC-SHA256``) for the service ``bedrock``,
which is checked by signing the request again with :data:`SECRET_ACCESS_KEY` (botocore's own
signer on the server side): an unknown access key id gets 403 ``UnrecognizedClientException``,
a wrong signature 403 ``InvalidSignatureException``. Errors are restJson1 as AWS sends them:
the status, ``x-amzn-ErrorType`` and ``{"message": ...}``. Behaviour by model id, as on the
other formats: ``error-<status>``, ``tool-call`` (a ``toolUse`` of the first tool with
``{"query": <text>}``; a conversation ending with a ``toolResult`` is answered with its text),
``stream-error`` (an exception event after two deltas), ``stall-midway`` (silent after two
deltas until the client hangs up), anything else echoes.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from urllib.parse import unquote

from tests.fakes import vendor_server

ACCESS_KEY_ID = "AKIAFAKEPARLOR000001"
SECRET_ACCESS_KEY = "fake/secret+access/key0123456789abcdefgh"
PATH = re.compile(r"^/model/([^/]+)/(converse|converse-stream)$")
ERRORS = {400: "ValidationException", 403: "AccessDeniedException",
          404: "ResourceNotFoundException", 408: "ModelTimeoutException",
          424: "ModelErrorException", 429: "ThrottlingException",
          500: "InternalServerException", 503: "ServiceUnavailableException"}


def is_bedrock(record) -> bool:
    return record.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256")


def answer(handler, record, raw: bytes) -> None:
    """Answer ``record`` (``raw``: its body's bytes) on the fake server's request handler."""
    if refusal := _signature_refusal(record, handler.path, raw):
        return _error(handler, 403, *refusal)
    fake = handler.server.fake
    if record.method == "GET" and record.path == "/foundation-models":
        return handler._json(200, {"modelSummaries": [
            {"modelId": m, "modelName": m, "providerName": "Fake",
             "outputModalities": ["TEXT"]} for m in fake.models]})
    match = PATH.match(record.path)
    if record.method != "POST" or match is None:
        return _error(handler, 404, "UnknownOperationException", "Unknown operation")
    model, operation = unquote(match.group(1)), match.group(2)
    body = record.body
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return _error(handler, 400, "ValidationException",
                      "1 validation error detected: Value null at 'messages' failed to "
                      "satisfy constraint: Member must not be null")
    if status := re.fullmatch(r"error-(\d{3})", model):
        code = int(status.group(1))
        return _error(handler, code, ERRORS.get(code, "InternalServerException"),
                      vendor_server._error_message(code, model))
    blocks, stop, prompt = _plan(model, body)
    output = sum(vendor_server.count_tokens(b.get("text") or json.dumps(b)) for b in blocks)
    usage = {"inputTokens": prompt, "outputTokens": output, "totalTokens": prompt + output}
    if operation == "converse":
        return handler._json(200, {
            "output": {"message": {"role": "assistant", "content": blocks}},
            "stopReason": stop, "usage": usage, "metrics": {"latencyMs": 12}})
    handler._headers(200, "application/vnd.amazon.eventstream",
                     {"transfer-encoding": "chunked"})
    handler.end_headers()
    events = list(_events(blocks, stop, usage))
    for number, (name, payload) in enumerate(events):
        if model == "stall-midway" and number == 3:  # silent after two deltas
            return vendor_server.go_silent(handler, model)
        if model == "stream-error" and number == 3:
            _write(handler, encode_exception("modelStreamErrorException",
                                             {"message": "The model broke off."}))
            break
        _write(handler, encode_event(name, payload))
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def _plan(model: str, body: dict) -> tuple[list[dict], str, int]:
    messages = body["messages"]
    texts = [b.get("text") or "" for m in messages for b in m.get("content") or ()]
    texts += [b.get("text") or "" for b in body.get("system") or ()]
    prompt = sum(vendor_server.count_tokens(t) for t in texts)
    last_user = next((b["text"] for m in reversed(messages) if m.get("role") == "user"
                      for b in m.get("content") or () if b.get("text")), "")
    if model == "tool-call":
        last = (messages[-1].get("content") or [{}])[-1] if messages else {}
        if "toolResult" in last:
            result = " ".join(c.get("text", "") for c in last["toolResult"].get("content") or ())
            return [{"text": f"Tool said: {result}"}], "end_turn", prompt
        tools = (body.get("toolConfig") or {}).get("tools") or []
        name = tools[0]["toolSpec"]["name"] if tools else "lookup"
        return [{"toolUse": {"toolUseId": "tooluse_fake0", "name": name,
                             "input": {"query": last_user}}}], "tool_use", prompt
    text, stop = f"Echo: {last_user}", "end_turn"
    limit = (body.get("inferenceConfig") or {}).get("maxTokens")
    pieces = vendor_server.words(text)
    if isinstance(limit, int) and len(pieces) > limit:
        text, stop = "".join(pieces[:limit]), "max_tokens"
    return [{"text": text}], stop, prompt


def _events(blocks: list[dict], stop: str, usage: dict):
    yield "messageStart", {"role": "assistant"}
    for index, block in enumerate(blocks):
        if "toolUse" in block:
            use = block["toolUse"]
            yield "contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": {
                "toolUseId": use["toolUseId"], "name": use["name"]}}}
            arguments = json.dumps(use["input"])
            for cut in range(0, len(arguments), 8):
                yield "contentBlockDelta", {"contentBlockIndex": index,
                                            "delta": {"toolUse": {"input": arguments[cut:cut + 8]}}}
        else:
            for piece in vendor_server.words(block["text"]):
                yield "contentBlockDelta", {"contentBlockIndex": index,
                                            "delta": {"text": piece}}
        yield "contentBlockStop", {"contentBlockIndex": index}
    yield "messageStop", {"stopReason": stop}
    yield "metadata", {"usage": usage, "metrics": {"latencyMs": 12}}


# -- the event-stream framing (application/vnd.amazon.eventstream) ---------------------------


def _message(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(struct.pack(">B", len(k)) + k.encode() + b"\x07"
                       + struct.pack(">H", len(v)) + v.encode() for k, v in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def encode_event(name: str, payload: dict) -> bytes:
    return _message({":event-type": name, ":content-type": "application/json",
                     ":message-type": "event"}, json.dumps(payload).encode())


def encode_exception(name: str, payload: dict) -> bytes:
    return _message({":exception-type": name, ":content-type": "application/json",
                     ":message-type": "exception"}, json.dumps(payload).encode())


def _write(handler, data: bytes) -> None:
    handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    handler.wfile.flush()


# -- SigV4 and errors -------------------------------------------------------------------------


def _signature_refusal(record, raw_path: str, raw: bytes) -> tuple[str, str] | None:
    """(error type, message) when the request's signature is not ours, else None."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    fields = dict(part.strip().split("=", 1) for part in
                  record.headers["authorization"].removeprefix("AWS4-HMAC-SHA256").split(","))
    key_id, date, region, service, _ = fields.get("Credential", "////").split("/", 4)
    if key_id != ACCESS_KEY_ID:
        return ("UnrecognizedClientException",
                "The security token included in the request is invalid.")
    signed = fields.get("SignedHeaders", "").split(";")
    headers = {name: record.headers.get(name, "") for name in signed}
    request = AWSRequest(method=record.method, url=f"http://{record.headers['host']}"
                         f"{raw_path}", data=raw, headers=headers)
    request.context["timestamp"] = record.headers.get("x-amz-date", "")
    signer = SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if service != "bedrock" or fields.get("Signature") != expected:
        return ("InvalidSignatureException",
                "The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method.")
    return None


def _error(handler, status: int, kind: str, message: str) -> None:
    extra = {"x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    handler._json(status, {"message": message}, extra)
