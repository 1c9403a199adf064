"""The fake vendor's structured outputs: JSON that fits the schema the request asks for.

OpenAI's ``response_format`` (``json_object`` / ``json_schema``) is answered with a JSON object
as the message text; an Anthropic request that forces one tool (``tool_choice`` of type
``tool``) gets a call of that tool with an input built from its ``input_schema``. Strings in the
object hold the last user text, so tests can see it went through.
"""

from __future__ import annotations

import json
from typing import Any


def example(schema: Any, text: str) -> Any:
    """A value fitting the (simple) JSON schema: objects, arrays, strings, numbers, enums."""
    if not isinstance(schema, dict):
        return text
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return example(schema["anyOf"][0], text)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: example(sub, text) for name, sub in properties.items()}
    if kind == "array":
        return [example(schema.get("items") or {}, text)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return text


def openai_json_answer(body: dict, text: str) -> str | None:
    """The JSON text answering an OpenAI request's response_format, or None for plain text."""
    fmt = body.get("response_format")
    if not isinstance(fmt, dict) or fmt.get("type") not in ("json_object", "json_schema"):
        return None
    if fmt["type"] == "json_object":
        return json.dumps({"echo": text})
    schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
    return json.dumps(example(schema, text))


def anthropic_forced_tool(body: dict, text: str) -> tuple[str, str] | None:
    """(tool name, input JSON) when the request forces one tool, else None."""
    choice = body.get("tool_choice")
    if not isinstance(choice, dict) or choice.get("type") != "tool":
        return None
    tool = next((t for t in body.get("tools") or () if t.get("name") == choice.get("name")), None)
    if tool is None:
        return None
    return tool["name"], json.dumps(example(tool.get("input_schema") or {}, text))
