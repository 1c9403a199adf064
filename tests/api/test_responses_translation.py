"""A Responses request body as the normalised ChatRequest every vendor adapter gets: the
fields with a counterpart that the fake vendor's replies cannot show (reasoning effort,
structured output, images, allowed tools, namespaced calls)."""

from __future__ import annotations

import pytest

from app.api.errors import ApiError
from app.api.schemas.openai_responses import ResponsesRequest
from app.vendors import ChatMessage, OutputFormat, Part, Reasoning, ToolCall

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _request(**body) -> ResponsesRequest:
    return ResponsesRequest.model_validate({"model": "m", "input": "hi", **body})


def test_reasoning_effort_is_carried_and_none_disables_reasoning():
    assert _request(reasoning={"effort": "high"}).to_chat_request().reasoning == Reasoning(
        effort="high")
    assert _request(reasoning={"effort": "none"}).to_chat_request().reasoning == Reasoning(
        mode="disabled")
    assert _request().to_chat_request().reasoning is None


def test_text_format_json_schema_becomes_the_output_format():
    body = _request(text={"format": {"type": "json_schema", "name": "place", "schema": SCHEMA,
                                     "strict": True}})
    assert body.to_chat_request().output_format == OutputFormat(
        type="json_schema", schema=SCHEMA, name="place", strict=True)
    assert _request(text={"format": {"type": "json_object"}}).to_chat_request(
    ).output_format == OutputFormat(type="json_object")
    assert _request(text={"format": {"type": "text"}}).to_chat_request().output_format is None


def test_images_and_files_become_parts_in_order():
    body = _request(input=[{"role": "user", "content": [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=",
         "detail": "auto"},
        {"type": "input_image", "image_url": "https://example.com/cat.jpg"},
        {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0=",
         "filename": "a.pdf"}]}])
    message = body.to_chat_request().messages[0]
    assert message.content == "what is this?"
    assert message.parts == (
        Part(type="text", text="what is this?"),
        Part(type="image", media_type="image/png", data="iVBORw0KGgo="),
        Part(type="image", url="https://example.com/cat.jpg"),
        Part(type="document", media_type="application/pdf", data="JVBERi0=", name="a.pdf"))


@pytest.mark.parametrize("url", ["data:image/png,rawbytes", "file:///etc/passwd"])
def test_an_image_url_that_is_not_base64_data_or_http_is_a_400(url):
    body = _request(input=[{"role": "user", "content": [
        {"type": "input_image", "image_url": url}]}])
    with pytest.raises(ApiError) as caught:
        body.to_chat_request()
    assert caught.value.status == 400


def test_calls_join_the_assistant_turn_and_outputs_become_tool_messages():
    body = _request(instructions="Be exact.", input=[
        {"role": "user", "content": "look up two things"},
        {"type": "message", "role": "assistant",
         "content": [{"type": "output_text", "text": "Checking."}]},
        {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "find", "namespace": "crm",
         "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
        {"type": "function_call_output", "call_id": "c2",
         "output": [{"type": "input_text", "text": "two"}]}])
    assert body.to_chat_request().messages == (
        ChatMessage(role="system", content="Be exact."),
        ChatMessage(role="user", content="look up two things"),
        ChatMessage(role="assistant", content="Checking.", tool_calls=(
            ToolCall(id="c1", name="lookup", arguments="{}"),
            ToolCall(id="c2", name="crm__find", arguments="{}"))),
        ChatMessage(role="tool", content="one", tool_call_id="c1"),
        ChatMessage(role="tool", content="two", tool_call_id="c2"))


def test_allowed_tools_keeps_only_the_named_functions():
    tools = [{"type": "function", "name": name} for name in ("a", "b", "c")]
    chat = _request(tools=tools, tool_choice={
        "type": "allowed_tools", "mode": "required",
        "tools": [{"type": "function", "name": "a"}, {"type": "function", "name": "c"}],
    }).to_chat_request()
    assert [t.name for t in chat.tools] == ["a", "c"] and chat.tool_choice == "required"


def test_a_namespace_ending_in_an_underscore_is_joined_as_is():
    chat = _request(tools=[{"type": "namespace", "name": "mcp__docs__", "description": "",
                            "tools": [{"type": "function", "name": "search"}]}],
                    tool_choice={"type": "function", "name": "search",
                                 "namespace": "mcp__docs__"}).to_chat_request()
    assert [t.name for t in chat.tools] == ["mcp__docs__search"]
    assert chat.tool_choice == "mcp__docs__search"
