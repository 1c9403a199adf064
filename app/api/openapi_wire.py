"""JSON Schemas of what the OpenAI- and Anthropic-compatible endpoints answer (app/formatting.py
writes these objects); open objects, since the vendors' own APIs add fields over time."""

from __future__ import annotations

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

SCHEMAS = {
    "OpenAIError": OPENAI_ERROR, "AnthropicError": ANTHROPIC_ERROR,
    "OpenAIChatCompletion": OPENAI_COMPLETION, "OpenAIModel": OPENAI_MODEL,
    "OpenAIModelList": OPENAI_MODEL_LIST, "AnthropicMessage": ANTHROPIC_MESSAGE,
    "AnthropicModel": ANTHROPIC_MODEL, "AnthropicModelList": ANTHROPIC_MODEL_LIST,
}
