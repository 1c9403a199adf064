"""AnthropicHandler's gateway features against the fake vendor, through the real anthropic SDK
over real HTTP: thinking, prompt caching, structured output, parts, native fields and headers,
token counting."""

from __future__ import annotations

import json

import pytest

from app.vendors.anthropic import AnthropicHandler
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Credential,
    OutputFormat,
    Part,
    Reasoning,
    ToolCall,
    ToolSpec,
    budget_for_effort,
)
from tests.fakes import anthropic_features, reasoning

CACHED = {"type": "ephemeral"}
LOOKUP = ToolSpec(name="lookup", description="Look something up",
                  parameters={"type": "object", "properties": {"query": {"type": "string"}}})
PNG = "iVBORw0KGgo="


@pytest.fixture
def handler(fake_vendor):
    handler = AnthropicHandler(Credential(
        name="claude", kind="anthropic", api_key=fake_vendor.api_key,
        base_url=fake_vendor.anthropic_base_url, timeout=10.0, connect_timeout=2.0))
    yield handler
    handler.close()


def ask(*messages: ChatMessage, model: str = "claude-fake", **fields) -> ChatRequest:
    return ChatRequest(model=model, messages=messages or (ChatMessage("user", "hello there"),),
                       **fields)


def test_thinking_and_redacted_blocks_are_read_into_the_result(handler):
    result = handler.complete(ask(model="fake-redacted-thinking"))
    thinking, redacted = result.thinking
    assert thinking.type == "thinking" and thinking.text == reasoning.THINKING_TEXT
    assert thinking.signature == reasoning.sign(reasoning.THINKING_TEXT)
    assert redacted == Part("redacted_thinking", data=anthropic_features.REDACTED_DATA)
    assert result.text == "Echo: hello there"


def test_streamed_thinking_comes_as_thinking_then_signature_then_redacted_then_text(handler):
    deltas = list(handler.stream(ask(model="fake-redacted-thinking")))
    kinds = [next(k for k in ("thinking", "signature", "redacted_thinking", "text",
                              "finish_reason") if getattr(d, k)) for d in deltas]
    assert kinds[0] == "thinking" and kinds[-1] == "finish_reason"
    first_text = kinds.index("text")
    assert kinds[first_text - 2:first_text] == ["signature", "redacted_thinking"]
    streamed = "".join(d.thinking for d in deltas)
    assert next(d.signature for d in deltas if d.signature) == reasoning.sign(streamed)
    assert "".join(d.text for d in deltas) == "Echo: hello there"


def test_thinking_sent_back_keeps_its_signature_and_thinking_from_elsewhere_is_left_out(
        handler, fake_vendor):
    signed = Part("thinking", text="Mine.", signature=reasoning.sign("Mine."))
    unsigned = Part("thinking", text="From an OpenAI-compatible server.")
    handler.complete(ask(
        ChatMessage("user", "hi"),
        ChatMessage("assistant", "ok", parts=(signed, unsigned, Part("text", text="ok"))),
        ChatMessage("user", "again")))
    assert fake_vendor.last_request.body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "Mine.", "signature": signed.signature},
        {"type": "text", "text": "ok"}]


def test_cache_tokens_are_read_and_input_tokens_count_them_too(handler, fake_vendor):
    system = ChatMessage("system", "Stable prefix", parts=(
        Part("text", text="Stable prefix", cache_control=CACHED),))
    request = ask(system, ChatMessage("user", "one two three"))
    first = handler.complete(request).usage
    second = list(handler.stream(request))[-1].usage
    assert fake_vendor.last_request.body["system"] == [
        {"type": "text", "text": "Stable prefix", "cache_control": CACHED}]
    assert (first.cache_write_tokens, first.cache_read_tokens) == (5, 0)
    assert (second.cache_write_tokens, second.cache_read_tokens) == (0, 5)
    assert first.input_tokens == second.input_tokens == 5  # the total, cached ones included


def test_an_effort_becomes_a_thinking_budget_with_room_for_the_answer(handler, fake_vendor):
    handler.complete(ask(max_tokens=1000, reasoning=Reasoning(effort="high")))
    body = fake_vendor.last_request.body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget_for_effort("high")}
    assert body["max_tokens"] > body["thinking"]["budget_tokens"]
    assert "output_config" not in body  # an OpenAI client's effort is not Anthropic's field


@pytest.mark.parametrize(("given", "sent"), [
    (Reasoning(mode="enabled", budget_tokens=4096, display="omitted"),
     {"type": "enabled", "budget_tokens": 4096, "display": "omitted"}),
    (Reasoning(mode="adaptive"), {"type": "adaptive"}),
    (Reasoning(mode="disabled"), {"type": "disabled"}),
])
def test_thinking_settings_are_sent_as_given(handler, fake_vendor, given, sent):
    handler.complete(ask(max_tokens=8000, reasoning=given))
    assert fake_vendor.last_request.body["thinking"] == sent


def test_structured_output_is_a_forced_tool_whose_input_is_the_text(handler, fake_vendor):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    request = ask(ChatMessage("user", "Rome"), tools=(LOOKUP,),
                  reasoning=Reasoning(effort="low"),
                  output_format=OutputFormat("json_schema", schema=schema, name="Trip"))
    result = handler.complete(request)
    assert json.loads(result.text) == {"city": "Rome"}
    assert (result.finish_reason, result.tool_calls) == ("stop", ())
    body = fake_vendor.last_request.body
    assert body["tool_choice"] == {"type": "tool", "name": "Trip"}
    assert [t["name"] for t in body["tools"]] == ["Trip"]
    assert body["tools"][0]["input_schema"] == schema
    assert "thinking" not in body  # the API refuses thinking beside a forced tool
    deltas = list(handler.stream(request))
    assert json.loads("".join(d.text for d in deltas)) == {"city": "Rome"}
    assert deltas[-1].finish_reason == "stop" and not any(d.tool_call for d in deltas)


def test_json_object_output_forces_a_tool_taking_any_object(handler, fake_vendor):
    result = handler.complete(ask(output_format=OutputFormat("json_object")))
    assert json.loads(result.text) == {}
    assert fake_vendor.last_request.body["tools"][0]["input_schema"] == {"type": "object"}


@pytest.mark.parametrize(("choice", "sent"), [
    (None, {"type": "auto", "disable_parallel_tool_use": True}),
    ("required", {"type": "any", "disable_parallel_tool_use": True}),
])
def test_no_parallel_tool_calls_is_said_inside_tool_choice(handler, fake_vendor, choice, sent):
    handler.complete(ask(tools=(LOOKUP,), tool_choice=choice, parallel_tool_calls=False))
    assert fake_vendor.last_request.body["tool_choice"] == sent


def test_native_fields_and_blocks_go_only_to_a_vendor_of_the_clients_format(
        handler, fake_vendor):
    search = {"type": "search_result", "source": "s", "title": "t",
              "content": [{"type": "text", "text": "x"}]}
    server_tool = ToolSpec(name="web_search", native={"type": "web_search_20250305",
                                                      "name": "web_search"})
    message = ChatMessage("user", "hi", parts=(Part("native", native=search),
                                               Part("text", text="hi")))
    for wire, fields in (("anthropic", {"context_management": {"edits": []}}),
                         ("openai", {"service_tier": "flex"})):
        handler.complete(ask(message, tools=(server_tool,), native_format=wire,
                             native_fields=fields))
        body = fake_vendor.last_request.body
        if wire == "anthropic":
            assert body["context_management"] == {"edits": []}
            assert body["messages"][0]["content"][0] == search
            assert body["tools"] == [{"type": "web_search_20250305", "name": "web_search"}]
        else:
            assert "service_tier" not in body and "tools" not in body
            assert body["messages"][0]["content"] == [{"type": "text", "text": "hi"}]


def test_forwarded_headers_replace_the_sdks_whatever_their_case(handler, fake_vendor):
    headers = {"anthropic-beta": "context-management-2025-06-27",
               "Anthropic-Version": "2023-06-01"}
    handler.complete(ask(native_format="anthropic", native_headers=headers))
    list(handler.stream(ask(native_format="anthropic", native_headers=headers)))
    for sent in fake_vendor.requests:  # a repeated version header would be the fake's 400
        assert sent.headers["anthropic-beta"] == "context-management-2025-06-27"
        assert sent.headers["anthropic-version"] == "2023-06-01"


def test_headers_of_another_format_are_not_forwarded(handler, fake_vendor):
    handler.complete(ask(native_format="openai", native_headers={"anthropic-beta": "x"}))
    assert "anthropic-beta" not in fake_vendor.last_request.headers


def test_images_documents_and_tool_results_become_their_blocks(handler, fake_vendor):
    parts = (Part("image", media_type="image/png", data=PNG),
             Part("image", url="https://example.com/a.png"),
             Part("document", text="line one", name="notes.txt", cache_control=CACHED),
             Part("document", media_type="application/pdf", data="JVBERi0=", name="a.pdf"),
             Part("text", text="compare"))
    handler.complete(ask(
        ChatMessage("user", "compare", parts=parts),
        ChatMessage("assistant", "", tool_calls=(
            ToolCall("toolu_1", "lookup", '{"query": "q"}'),)),
        ChatMessage("tool", "failed", tool_call_id="toolu_1", is_error=True,
                    cache_control=CACHED,
                    parts=(Part("text", text="failed"),
                           Part("image", media_type="image/png", data=PNG)))))
    messages = fake_vendor.last_request.body["messages"]
    assert messages[0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                        "data": "line one"},
         "title": "notes.txt", "cache_control": CACHED},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                        "data": "JVBERi0="}, "title": "a.pdf"},
        {"type": "text", "text": "compare"}]
    assert messages[2]["content"] == [{
        "type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
        "cache_control": CACHED, "content": [
            {"type": "text", "text": "failed"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": PNG}}]}]


def test_tools_keep_their_cache_mark_and_strictness(handler, fake_vendor):
    tool = ToolSpec(name="lookup", parameters=LOOKUP.parameters, strict=True,
                    cache_control=CACHED)
    handler.complete(ask(tools=(tool,)))
    assert fake_vendor.last_request.body["tools"] == [
        {"name": "lookup", "description": "", "input_schema": LOOKUP.parameters,
         "strict": True, "cache_control": CACHED}]


def test_count_tokens_asks_the_vendor_with_the_prompt_fields_alone(handler, fake_vendor):
    counted = handler.count_tokens(ask(ChatMessage("system", "Be brief"),
                                       ChatMessage("user", "one two three"),
                                       tools=(LOOKUP,), max_tokens=50, stop=("x",)))
    assert counted == 3 + 2 + 4 + 3  # the fake's words: messages, system, tool; + 3
    sent = fake_vendor.last_request
    assert sent.path == "/v1/messages/count_tokens"
    assert set(sent.body) == {"model", "messages", "system", "tools"}
