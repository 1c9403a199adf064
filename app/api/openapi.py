"""The OpenAPI 3.1 document of the JSON API, built from the code so it cannot drift.

Request bodies and query parameters come from the very pydantic models the views validate
with (``model_json_schema``); REST responses from the response schemas the views serialise
through; the /v1 wire objects from :mod:`app.api.openapi_wire`. Each operation lists the error
statuses it can answer, in the error shape of its audience. ``tests/api_rest`` fails when a
/v1 or /api/v1 route of the URL map is missing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api import openapi_admin, openapi_wire
from app.api.schemas import rest as s
from app.api.schemas.anthropic_messages import CountTokensRequest, MessagesRequest
from app.api.schemas.openai_chat import ChatCompletionRequest

REF = "#/components/schemas/{model}"
REST_SECURITY = [{"bearer": []}, {"session": []}]
KEY_SECURITY = [{"bearer": []}]
ANTHROPIC_SECURITY = [{"bearer": []}, {"x-api-key": []}]
REST_ERRORS = (400, 401, 403, 413, 429)
STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content", 400: "Invalid request",
               401: "Missing, wrong, expired or revoked credentials", 403: "Not permitted",
               404: "Not found", 409: "Conflict", 413: "Request body too large",
               429: "Rate limited", 500: "Server error", 502: "The vendor failed",
               504: "The vendor timed out"}
SSE = {"text/event-stream": {"schema": {"type": "string"}}}


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    tag: str
    ok: dict  # status -> content (a model, content, (model, more content), or None: no body)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: str = "rest"  # rest | openai | anthropic | either
    error_statuses: tuple[int, ...] = REST_ERRORS
    security: list = field(default_factory=lambda: REST_SECURITY)
    headers: tuple[dict, ...] = ()
    description: str = ""
    multipart: dict | None = None  # a multipart/form-data body's JSON schema


def _json(model: type[BaseModel] | str) -> dict:
    name = model if isinstance(model, str) else None
    return {"application/json": {"schema": {"$ref": REF.format(model=name) if name
                                            else model}}}


VERSION_HEADER = {"name": "anthropic-version", "in": "header", "required": False,
                  "schema": {"type": "string"},
                  "description": "Sent by Anthropic SDKs; GET /v1/models then answers in "
                                 "Anthropic's shape"}
V1_ERRORS = (400, 401, 403, 404, 413, 429, 502, 504)
CACHE_NOTE = ("On a route that keeps answers (the response cache), an identical request is "
              "answered from the cache without a vendor call, a stream replayed as a stream, "
              "and the response carries `x-parlor-cache: hit` (else `miss`).")
OPS = [
    Op("post", "/v1/chat/completions", "OpenAI-compatible chat completion", "OpenAI-compatible",
       {200: {**_json("OpenAIChatCompletion"), **SSE}}, body=ChatCompletionRequest,
       errors="openai", error_statuses=V1_ERRORS, security=KEY_SECURITY,
       description="With `stream: true`: `chat.completion.chunk` events, then `data: [DONE]`. "
                   "Fields Parlor does not interpret are forwarded unchanged to OpenAI-type "
                   "vendors and dropped for others, named in `x-parlor-dropped`; `n` > 1, "
                   "`logprobs` and audio output are a 400. " + CACHE_NOTE),
    Op("get", "/v1/models", "Models the key's role may use", "OpenAI-compatible",
       {200: {"application/json": {"schema": {"anyOf": [
           {"$ref": REF.format(model="OpenAIModelList")},
           {"$ref": REF.format(model="AnthropicModelList")}]}}}},
       errors="either", error_statuses=(401, 403, 429), security=ANTHROPIC_SECURITY,
       headers=(VERSION_HEADER,)),
    Op("get", "/v1/models/{model_id}", "One model", "OpenAI-compatible",
       {200: {"application/json": {"schema": {"anyOf": [
           {"$ref": REF.format(model="OpenAIModel")},
           {"$ref": REF.format(model="AnthropicModel")}]}}}},
       errors="either", error_statuses=(401, 403, 404, 429), security=ANTHROPIC_SECURITY,
       headers=(VERSION_HEADER,)),
    Op("post", "/v1/messages", "Anthropic-compatible message", "Anthropic-compatible",
       {200: {**_json("AnthropicMessage"), **SSE}}, body=MessagesRequest, errors="anthropic",
       error_statuses=V1_ERRORS, security=ANTHROPIC_SECURITY, headers=(VERSION_HEADER,),
       description="With `stream: true`: message_start, content_block_*, message_delta, "
                   "message_stop events. Fields and blocks Parlor does not interpret "
                   "(context_management, server tools...) and the `anthropic-beta` header are "
                   "forwarded unchanged to Anthropic vendors and dropped for others, named in "
                   "`x-parlor-dropped`. " + CACHE_NOTE),
    Op("post", "/v1/v1/messages", "Anthropic-compatible message (base URL ending in /v1)",
       "Anthropic-compatible", {200: {**_json("AnthropicMessage"), **SSE}},
       body=MessagesRequest, errors="anthropic", error_statuses=V1_ERRORS,
       security=ANTHROPIC_SECURITY, headers=(VERSION_HEADER,)),
    *(Op("post", path, "Count a message's input tokens", "Anthropic-compatible",
         {200: _json("AnthropicTokenCount")}, body=CountTokensRequest, errors="anthropic",
         error_statuses=V1_ERRORS, security=ANTHROPIC_SECURITY, headers=(VERSION_HEADER,),
         description="Forwarded to Anthropic vendors; for other vendors an estimate of four "
                     "characters a token over system, messages and tools. Not in the usage "
                     "ledger.")
      for path in ("/v1/messages/count_tokens", "/v1/v1/messages/count_tokens")),
    Op("get", "/api/v1/me", "Your account", "Me", {200: s.Data[s.UserOut]},
       error_statuses=(401, 403, 429)),
    Op("patch", "/api/v1/me", "Change your display name", "Me", {200: s.Data[s.UserOut]},
       body=s.MeUpdate, description="Any other field (role, email, id...) is refused with 400."),
    Op("get", "/api/v1/conversations", "Your conversations, a page at a time", "Conversations",
       {200: s.Listing[s.ConversationListItem]}, query=s.ConversationQuery,
       error_statuses=(400, 401, 403, 429)),
    Op("post", "/api/v1/conversations", "Start a conversation", "Conversations",
       {201: s.Data[s.ConversationDetail]}, body=s.ConversationCreate),
    Op("get", "/api/v1/conversations/{conversation_id}", "A conversation with its messages",
       "Conversations", {200: s.Data[s.ConversationDetail]},
       error_statuses=(401, 403, 404, 429),
       description="`messages` is the whole tree (every version of every message, each with "
                   "its `parent_id`); `path` lists the branch shown, ending at "
                   "`current_leaf_id`: what the model sees on the next message."),
    Op("patch", "/api/v1/conversations/{conversation_id}", "Rename or reconfigure",
       "Conversations", {200: s.Data[s.ConversationDetail]}, body=s.ConversationUpdate,
       error_statuses=(*REST_ERRORS, 404),
       description="`options` (temperature, max_tokens, reasoning_effort) are used for every "
                   "reply; `current_leaf_id` shows another branch (the newest message under "
                   "the id given becomes the current leaf): a version of a message (Previous "
                   "/ Next version), or one of the replies of a comparison (Use this reply). "
                   "A title set here is never replaced by an automatic one."),
    Op("delete", "/api/v1/conversations/{conversation_id}", "Delete a conversation",
       "Conversations", {204: None}, error_statuses=(400, 401, 403, 404, 429)),
    Op("post", "/api/v1/conversations/{conversation_id}/messages", "Send a message",
       "Messages", {201: s.Data[s.SentMessages], 200: SSE}, body=s.MessageCreate,
       error_statuses=(*REST_ERRORS, 404, 409),
       description="`stream: false` (default): waits, answers 201 with both messages (a vendor "
                   "failure shows in the reply's `status`/`error`). `stream: true`: 200 "
                   "`text/event-stream` of `start` (both messages), `thinking` ({\"text\"}: "
                   "the model's reasoning, event `id` `t` and its length so far), `delta` "
                   "({\"text\"}, its event `id` the length of the text so far) and `done` "
                   "(the stored reply). A reply of the branch still being written: 409. "
                   "The reply is written whether or not the client stays: one that leaves can "
                   "rejoin with GET `.../messages/{message_id}/stream` (a reply nobody "
                   "follows for a few seconds is ended as `incomplete`)."),
    Op("get", "/api/v1/conversations/{conversation_id}/messages/{message_id}/stream",
       "Follow a reply (rejoin its stream)", "Messages", {200: SSE},
       error_statuses=(400, 401, 403, 404, 429),
       headers=({"name": "Last-Event-ID", "in": "header", "required": False,
                 "schema": {"type": "string", "pattern": "^t?[0-9]+$"},
                 "description": "The `id` of the last `delta` (N: a text offset) or "
                                "`thinking` (tN) event received: the stream goes on from "
                                "there, nothing repeated or lost"},),
       description="`thinking` and `delta` events from `Last-Event-ID` (none: all) while the "
                   "reply is written, live from whichever Parlor process writes it, then "
                   "`done` (the stored reply); a finished reply answers `done` at once."),
    Op("post", "/api/v1/conversations/{conversation_id}/messages/{message_id}/continue",
       "Continue a reply cut short", "Messages", {200: (s.Data[s.MessageOut], SSE)},
       body=s.ContinueRequest, error_statuses=(*REST_ERRORS, 404),
       description="For an `interrupted` or `incomplete` reply with some text: the model is "
                   "asked to go on from it, and what it writes is appended to the same "
                   "message. `stream: false` waits and answers the reply; `stream: true` "
                   "answers `thinking` / `delta` events (ids going on from the text it had) "
                   "and `done`. Any other reply is a 400."),
    Op("post", "/api/v1/conversations/{conversation_id}/messages/{message_id}/edit",
       "Edit a message (a new version, a new branch)", "Messages",
       {201: s.Data[s.SentMessages], 200: SSE}, body=s.MessageEdit,
       error_statuses=(*REST_ERRORS, 404, 409),
       description="Any of your messages, not only the last: the new text becomes a sibling "
                   "of it (same `parent_id`) with a new reply, and its branch is shown; the "
                   "original and what followed it stay as another branch. Answers as sending "
                   "does (`stream`). A message of the model's: 400; a reply of the branch "
                   "still being written: 409."),
    Op("post", "/api/v1/conversations/{conversation_id}/messages/{message_id}/regenerate",
       "Regenerate a reply (a new version, a new branch)", "Messages",
       {201: s.Data[s.SentMessages], 200: SSE}, body=s.Regenerate,
       error_statuses=(*REST_ERRORS, 404, 409),
       description="Any reply, not only the last: a new reply to the same message (its "
                   "sibling), from `model` if given, and its branch is shown; the old reply "
                   "stays as another version. Answers as sending does (`message` is the "
                   "message replied to). A user message: 400; a reply of the branch still "
                   "being written: 409."),
    Op("post", "/api/v1/conversations/{conversation_id}/messages/{message_id}/stop",
       "Stop a reply being written", "Messages", {200: s.Data[s.StopResult]},
       error_statuses=(400, 401, 403, 404, 429)),
    Op("post", "/api/v1/attachments", "Upload a file to attach to messages", "Attachments",
       {201: s.Data[s.AttachmentOut]}, error_statuses=REST_ERRORS,
       multipart={"type": "object", "required": ["file"], "properties": {
           "file": {"type": "string", "format": "binary"}}},
       description="Images (PNG, JPEG, WebP, GIF: re-encoded, metadata such as EXIF GPS "
                   "removed), PDFs and UTF-8 text files; the type comes from the bytes. The "
                   "same content again answers the same attachment. 413 past the file size "
                   "limit or your storage quota. Send its `id` in a message's `attachments`."),
    Op("get", "/api/v1/attachments/{attachment_id}", "One of your attachments",
       "Attachments", {200: s.Data[s.AttachmentOut]}, error_statuses=(401, 403, 404, 429)),
    Op("get", "/api/v1/attachments/{attachment_id}/content", "Download an attachment",
       "Attachments", {200: {kind: {"schema": {"type": "string", "format": "binary"}} for kind in (
           "image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf",
           "text/plain")}}, error_statuses=(401, 403, 404, 429),
       description="Images inline, anything else with `Content-Disposition: attachment`; "
                   "always `nosniff` and a sandboxing Content-Security-Policy."),
    Op("get", "/api/v1/usage", "Your usage: totals, per day, per model", "Usage",
       {200: s.Data[s.UsageOut]}, query=s.UsageQuery, error_statuses=(400, 401, 403, 429)),
    Op("get", "/api/v1/keys", "Your API keys", "Keys", {200: s.Listing[s.KeyOut]},
       error_statuses=(401, 403, 429)),
    Op("post", "/api/v1/keys", "Create an API key (the secret is shown once)", "Keys",
       {201: s.Data[s.KeyCreated]}, body=s.KeyCreate),
    Op("delete", "/api/v1/keys/{key_ref}", "Revoke one of your keys (id or prefix)", "Keys",
       {204: None}, error_statuses=(400, 401, 403, 404, 429)),
] + [Op(**spec) for spec in openapi_admin.OPERATIONS + openapi_wire.OPERATIONS]
ERROR_REFS = {"rest": "ErrorOut", "openai": "OpenAIError", "anthropic": "AnthropicError"}

def _models() -> list[type[BaseModel]]:
    found = [s.ErrorOut]
    for op in OPS:
        found += [m for m in (op.body, op.query) if m is not None]
        found += [c[0] if isinstance(c, tuple) else c for c in op.ok.values()
                  if isinstance(c, type | tuple)]
    return list(dict.fromkeys(found))


def document() -> dict:
    """The OpenAPI 3.1 document of every /v1 and /api/v1 operation."""
    models = _models()
    modes = [(m, "validation" if m in _request_models() else "serialization") for m in models]
    names, top = models_json_schema(modes, ref_template=REF)
    schemas = {**top.get("$defs", {}), **openapi_wire.SCHEMAS}
    ref_of = {model: names[(model, mode)]["$ref"] for model, mode in modes}
    paths: dict = {}
    for op in OPS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, ref_of, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Parlor API", "version": "1",
                 "description": "OpenAI- and Anthropic-compatible gateway (/v1) and Parlor's "
                                "native REST API (/api/v1). REST responses wrap results in "
                                "`data` (lists add `meta`); every /api/v1 error is "
                                "`{\"error\": {\"code\", \"message\", \"details\"}}`."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "A Parlor API key (never in the URL: refused)"},
            "x-api-key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "The browser session; state-changing requests also "
                                       "need the CSRF token in the X-CSRFToken header"},
        }},
    }


def _request_models() -> set:
    return {m for op in OPS for m in (op.body, op.query) if m is not None}


def _operation(op: Op, ref_of: dict, schemas: dict) -> dict:
    operation = {"summary": op.summary, "tags": [op.tag], "security": op.security,
                 "operationId": op.method + re.sub(r"\W+", "_", op.path).rstrip("_"),
                 "parameters": [*_path_params(op.path), *op.headers,
                                *_query_params(op.query, ref_of, schemas)],
                 "responses": {}}
    if op.description:
        operation["description"] = op.description
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": ref_of[op.body]}}}}
    if op.multipart is not None:
        operation["requestBody"] = {"required": True, "content": {
            "multipart/form-data": {"schema": op.multipart}}}
    for status, content in op.ok.items():
        response = {"description": STATUS_TEXT[status]}
        if isinstance(content, tuple):  # (model, other content): JSON or, say, SSE
            model, other = content
            response["content"] = {"application/json": {"schema": {"$ref": ref_of[model]}},
                                   **other}
        elif isinstance(content, type):
            response["content"] = {"application/json": {"schema": {"$ref": ref_of[content]}}}
        elif content is not None:
            response["content"] = content
        operation["responses"][str(status)] = response
    for status in op.error_statuses:
        operation["responses"][str(status)] = {"description": STATUS_TEXT[status],
                                               "content": _error_content(op.errors)}
    return operation


def _error_content(kind: str) -> dict:
    if kind == "either":
        return {"application/json": {"schema": {"anyOf": [
            {"$ref": REF.format(model="OpenAIError")},
            {"$ref": REF.format(model="AnthropicError")}]}}}
    return {"application/json": {"schema": {"$ref": REF.format(model=ERROR_REFS[kind])}}}


def _path_params(path: str) -> list[dict]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)]


def _query_params(model: type[BaseModel] | None, ref_of: dict, schemas: dict) -> list[dict]:
    if model is None:
        return []
    schema = schemas[ref_of[model].rsplit("/", 1)[1]]
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        branches = [b for b in prop.pop("anyOf", ()) if b.get("type") != "null"]
        if branches:  # a query parameter is absent rather than null
            prop.update(branches[0])
        if prop.get("default") is None:
            prop.pop("default", None)
        params.append({"name": name, "in": "query", "required": name in required,
                       "description": prop.pop("description", ""), "schema": prop})
    return params
