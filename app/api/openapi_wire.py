"""JSON Schemas of what the OpenAI- and Anthropic-compatible endpoints answer (app.formatting.wire
and app/api/responses_objects.py write these objects); open objects, since the vendors' own
APIs add fields over time. Also the Responses API operations, as :class:`app.api.openapi.Op`
keyword arguments (``openapi.py`` builds them into its ``OPS``)."""

from __future__ import annotations

from app.api.schemas.openai_embeddings import EmbeddingsRequest
from app.api.schemas.openai_response_items import InputItemsQuery
from app.api.schemas.openai_responses import ResponsesRequest

STRING, INTEGER = {"type": "string"}, {"type": "integer"}
NULLABLE_STRING = {"type": ["string", "null"]}


def obj(required: dict, optional: dict | None = None) -> dict:
    return {"type": "object", "required": list(required),
            "properties": {**required, **(optional or {})}}


OPENAI_ERROR = obj({"error": obj({"message": STRING, "type": STRING,
                                  "param": NULLABLE_STRING, "code": NULLABLE_STRING})})
ANTHROPIC_ERROR = obj({"type": {"const": "error"},
                       "error": obj({"type": STRING, "message": STRING})},
                      {"request_id": STRING})

OPENAI_TOOL_CALL = obj({"id": STRING, "type": {"const": "function"},
                        "function": obj({"name": STRING, "arguments": STRING})})
OPENAI_COMPLETION = obj({
    "id": STRING, "object": {"const": "chat.completion"}, "created": INTEGER, "model": STRING,
    "choices": {"type": "array", "items": obj({
        "index": INTEGER,
        "message": obj({"role": {"const": "assistant"}, "content": NULLABLE_STRING},
                       {"tool_calls": {"type": "array", "items": OPENAI_TOOL_CALL},
                        "refusal": NULLABLE_STRING}),
        "finish_reason": {"enum": ["stop", "length", "tool_calls", "content_filter"]}})},
    "usage": obj({"prompt_tokens": INTEGER, "completion_tokens": INTEGER,
                  "total_tokens": INTEGER}),
})
OPENAI_MODEL = obj({"id": STRING, "object": {"const": "model"}, "created": INTEGER,
                    "owned_by": STRING})
OPENAI_MODEL_LIST = obj({"object": {"const": "list"},
                         "data": {"type": "array", "items": OPENAI_MODEL}})

ANTHROPIC_MESSAGE = obj({
    "id": STRING, "type": {"const": "message"}, "role": {"const": "assistant"}, "model": STRING,
    "content": {"type": "array", "items": obj({"type": {"enum": ["text", "tool_use"]}},
                                              {"text": STRING, "id": STRING, "name": STRING,
                                               "input": {"type": "object"}})},
    "stop_reason": {"enum": ["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]},
    "stop_sequence": NULLABLE_STRING,
    "usage": obj({"input_tokens": INTEGER, "output_tokens": INTEGER}),
})
ANTHROPIC_MODEL = obj({"type": {"const": "model"}, "id": STRING, "display_name": STRING,
                       "created_at": STRING})
ANTHROPIC_MODEL_LIST = obj({"data": {"type": "array", "items": ANTHROPIC_MODEL},
                            "has_more": {"type": "boolean"}, "first_id": NULLABLE_STRING,
                            "last_id": NULLABLE_STRING})

RESPONSE_ITEM = obj({"type": {"enum": ["message", "function_call", "custom_tool_call",
                                        "reasoning"]}, "id": STRING},
                    {"status": STRING, "role": {"const": "assistant"},
                     "content": {"type": "array", "items": obj(
                         {"type": {"const": "output_text"}, "text": STRING},
                         {"annotations": {"type": "array"}})},
                     "call_id": STRING, "name": STRING, "arguments": STRING,
                     "input": STRING, "namespace": STRING,
                     "summary": {"type": "array", "items": obj(
                         {"type": {"const": "summary_text"}, "text": STRING})},
                     "encrypted_content": NULLABLE_STRING})
RESPONSE_USAGE = obj({"input_tokens": INTEGER, "output_tokens": INTEGER,
                      "total_tokens": INTEGER},
                     {"input_tokens_details": obj({"cached_tokens": INTEGER}),
                      "output_tokens_details": obj({"reasoning_tokens": INTEGER})})
OPENAI_RESPONSE = obj({
    "id": STRING, "object": {"const": "response"}, "created_at": INTEGER, "model": STRING,
    "status": {"enum": ["completed", "incomplete", "in_progress", "failed"]},
    "output": {"type": "array", "items": RESPONSE_ITEM},
}, {"usage": {"anyOf": [RESPONSE_USAGE, {"type": "null"}]},
    "incomplete_details": {"anyOf": [obj({"reason": STRING}), {"type": "null"}]},
    "previous_response_id": NULLABLE_STRING, "store": {"type": "boolean"},
    "parallel_tool_calls": {"type": "boolean"}, "tools": {"type": "array"}})
OPENAI_RESPONSE_DELETED = obj({"id": STRING, "object": {"const": "response"},
                               "deleted": {"const": True}})

OPENAI_RESPONSE_INPUT_ITEMS = obj({
    "object": {"const": "list"},
    "data": {"type": "array", "items": obj({"id": STRING, "type": STRING})},
    "first_id": NULLABLE_STRING, "last_id": NULLABLE_STRING, "has_more": {"type": "boolean"}})

OPENAI_EMBEDDINGS = obj({
    "object": {"const": "list"}, "model": STRING,
    "data": {"type": "array", "items": obj({
        "object": {"const": "embedding"}, "index": INTEGER,
        "embedding": {"anyOf": [{"type": "array", "items": {"type": "number"}}, STRING]}})},
    "usage": obj({"prompt_tokens": INTEGER, "total_tokens": INTEGER}),
})

SCHEMAS = {
    "OpenAIError": OPENAI_ERROR, "AnthropicError": ANTHROPIC_ERROR,
    "OpenAIChatCompletion": OPENAI_COMPLETION, "OpenAIModel": OPENAI_MODEL,
    "OpenAIModelList": OPENAI_MODEL_LIST, "AnthropicMessage": ANTHROPIC_MESSAGE,
    "AnthropicModel": ANTHROPIC_MODEL, "AnthropicModelList": ANTHROPIC_MODEL_LIST,
    "OpenAIResponse": OPENAI_RESPONSE, "OpenAIResponseDeleted": OPENAI_RESPONSE_DELETED,
    "OpenAIResponseInputItems": OPENAI_RESPONSE_INPUT_ITEMS,
    "AnthropicTokenCount": obj({"input_tokens": {"type": "integer"}}),
    "OpenAIEmbeddings": OPENAI_EMBEDDINGS,
}


def _content(name: str, stream: bool = False) -> dict:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
    if stream:
        content["text/event-stream"] = {"schema": {"type": "string"}}
    return content


RESPONSES_TAG = "OpenAI-compatible"
RESPONSES_ERRORS = (400, 401, 403, 404, 413, 429, 502, 504)
STREAM_NOTE = ("Any routed model. To a vendor that speaks the Responses API itself (kind "
               "`openai`, every route of the model), the request goes as sent (the model "
               "routed; `previous_response_id` resolved by Parlor into the whole input; "
               "`store: false` upstream) and the answer and every event come back as the "
               "vendor sent them, hosted tools and all, nothing dropped; the response object "
               "names the model asked for and Parlor's `store` / `previous_response_id`; "
               "only `background` and `conversation` are refused on that path. "
               "Otherwise translated for its vendor: messages, function tools (a "
               "namespace flattened), custom tools (to chat vendors as a function of one "
               "string argument `input`, the grammar in its description; calls come back as "
               "`custom_tool_call` items), `custom_tool_call` / `custom_tool_call_output` and "
               "`reasoning` input items (thinking blocks for Anthropic vendors, with the "
               "signature kept in `encrypted_content`). A vendor's reasoning is a `reasoning` "
               "output item with `summary_text`. Fields Parlor does not interpret (metadata, "
               "include, service_tier, hosted tools, reasoning items a vendor cannot take...) "
               "are dropped and named in the `x-parlor-dropped` header; `background`, "
               "`conversation`, `prompt` and `top_logprobs` are a 400. `store` (default true) "
               "keeps the response for the key's owner. With `stream: true`: "
               "`response.created`, `response.in_progress`, per output item "
               "`response.output_item.added`, its events (`reasoning_summary_part` / "
               "`reasoning_summary_text`, `content_part` / `output_text`, "
               "`function_call_arguments`, `custom_tool_call_input` deltas and `.done`) and "
               "`response.output_item.done`, then `response.completed` (or "
               "`response.incomplete`); a vendor failure after the start is `response.failed`.")
EMBEDDINGS_NOTE = ("Models of OpenAI-type vendors (a route may be marked as an embedding "
                   "model); another vendor's model is a 400. `encoding_format: base64` sends "
                   "each vector as base64 float32, as OpenAI does; other fields are forwarded "
                   "unchanged. In the usage ledger, as input tokens.")
OPERATIONS = [
    {"method": "post", "path": "/v1/responses", "summary": "OpenAI Responses API",
     "tag": RESPONSES_TAG, "ok": {200: _content("OpenAIResponse", stream=True)},
     "body": ResponsesRequest, "errors": "openai", "error_statuses": RESPONSES_ERRORS,
     "security": [{"bearer": []}], "description": STREAM_NOTE},
    {"method": "post", "path": "/v1/v1/responses",
     "summary": "OpenAI Responses API (base URL ending in /v1/v1)", "tag": RESPONSES_TAG,
     "ok": {200: _content("OpenAIResponse", stream=True)}, "body": ResponsesRequest,
     "errors": "openai", "error_statuses": RESPONSES_ERRORS, "security": [{"bearer": []}]},
    {"method": "get", "path": "/v1/responses/{response_id}", "summary": "A stored response",
     "tag": RESPONSES_TAG, "ok": {200: _content("OpenAIResponse")}, "errors": "openai",
     "error_statuses": (401, 403, 404, 429), "security": [{"bearer": []}],
     "description": "Only the key owner's own responses; any other id is a 404."},
    {"method": "get", "path": "/v1/responses/{response_id}/input_items",
     "summary": "A stored response's input items", "tag": RESPONSES_TAG,
     "ok": {200: _content("OpenAIResponseInputItems")}, "query": InputItemsQuery,
     "errors": "openai", "error_statuses": (400, 401, 403, 404, 429),
     "security": [{"bearer": []}],
     "description": "The items the response's own request sent (a string input is one user "
                    "message), as `client.responses.input_items.list` reads them: newest "
                    "first unless `order=asc`, `after` an item id. Only the key owner's own "
                    "responses; any other id is a 404."},
    {"method": "delete", "path": "/v1/responses/{response_id}",
     "summary": "Delete a stored response", "tag": RESPONSES_TAG,
     "ok": {200: _content("OpenAIResponseDeleted")}, "errors": "openai",
     "error_statuses": (401, 403, 404, 429), "security": [{"bearer": []}]},
    *({"method": "post", "path": path, "summary": "OpenAI-compatible embeddings",
       "tag": RESPONSES_TAG, "ok": {200: _content("OpenAIEmbeddings")},
       "body": EmbeddingsRequest, "errors": "openai", "error_statuses": RESPONSES_ERRORS,
       "security": [{"bearer": []}], "description": EMBEDDINGS_NOTE}
      for path in ("/v1/embeddings", "/v1/v1/embeddings")),
]
