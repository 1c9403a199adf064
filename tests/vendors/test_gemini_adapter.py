"""GeminiHandler against the fake vendor speaking Gemini's own wire format (generateContent,
streamGenerateContent with alt=sse, x-goog-api-key): the real google-genai SDK over real HTTP,
nothing mocked."""

from __future__ import annotations

import json

import pytest

from app.vendors import HANDLERS
from app.vendors.errors import (
    VendorAuthError,
    VendorModelNotFound,
    VendorRateLimited,
    VendorUnavailable,
)
from app.vendors.gemini import GeminiHandler
from app.vendors.types import ChatMessage, ChatRequest, Credential, ToolCall, ToolSpec

WEATHER = ToolSpec(name="get_weather", description="Current weather for a city",
                   parameters={"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"]})


def make_handler(fake, *, api_key=None):
    return GeminiHandler(Credential(
        name="google", kind="gemini", api_key=fake.api_key if api_key is None else api_key,
        base_url=fake.url, timeout=10.0, connect_timeout=2.0))


def ask(model="gemini-2.5-flash", text="hello gemini", **fields) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage("system", "Be brief."),
                                              ChatMessage("user", text)), **fields)


@pytest.fixture
def handler(fake_vendor):
    handler = make_handler(fake_vendor)
    yield handler
    handler.close()


def test_the_registry_maps_the_gemini_kind_to_its_adapter():
    assert HANDLERS["gemini"] is GeminiHandler


def test_a_plain_call_is_a_generate_content_request_with_usage(handler, fake_vendor):
    result = handler.complete(ask(max_tokens=50, temperature=0.2))
    assert result.text == "Echo: hello gemini" and result.finish_reason == "stop"
    assert result.usage.input_tokens == 4 and result.usage.output_tokens == 3
    sent = fake_vendor.last_request
    assert sent.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert sent.headers["x-goog-api-key"] == fake_vendor.api_key
    assert sent.body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    assert sent.body["contents"] == [{"role": "user", "parts": [{"text": "hello gemini"}]}]
    assert sent.body["generationConfig"]["maxOutputTokens"] == 50
    assert sent.body["generationConfig"]["temperature"] == 0.2


def test_max_tokens_cuts_the_reply_with_finish_length(handler):
    result = handler.complete(ask(text="one two three four", max_tokens=2))
    assert result.finish_reason == "length" and result.text == "Echo: one "


def test_a_streamed_call_reads_server_sent_events(handler, fake_vendor):
    deltas = list(handler.stream(ask(text="one two three four five")))
    texts = [d.text for d in deltas if d.text]
    assert len(texts) > 1 and "".join(texts) == "Echo: one two three four five"
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage.output_tokens == 6
    sent = fake_vendor.last_request
    assert sent.path.endswith("/models/gemini-2.5-flash:streamGenerateContent")
    assert sent.query["alt"] == ["sse"]


def test_a_function_call_comes_back_and_its_result_goes_back(handler, fake_vendor):
    request = ask(model="tool-call", text="Paris", tools=(WEATHER,), tool_choice="auto")
    result = handler.complete(request)
    assert result.finish_reason == "tool_calls"
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [
        ("get_weather", {"query": "Paris"})]
    declared = fake_vendor.last_request.body["tools"][0]["functionDeclarations"][0]
    assert declared["name"] == "get_weather"
    schema = declared.get("parametersJsonSchema") or declared["parameters_json_schema"]
    assert schema["required"] == ["city"]  # the JSON schema as the client gave it
    assert fake_vendor.last_request.body["toolConfig"] == {
        "functionCallingConfig": {"mode": "AUTO"}}

    deltas = list(handler.stream(request))
    calls = [d.tool_call for d in deltas if d.tool_call]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"query": "Paris"})]
    assert deltas[-1].finish_reason == "tool_calls"

    call = result.tool_calls[0]
    follow_up = ChatRequest(model="tool-call", tools=(WEATHER,), messages=(
        ChatMessage("user", "Paris"),
        ChatMessage("assistant", tool_calls=(ToolCall(call.id, call.name, call.arguments),)),
        ChatMessage("tool", "18 degrees and sunny", tool_call_id=call.id)))
    assert handler.complete(follow_up).text == "Tool said: 18 degrees and sunny"
    sent = fake_vendor.last_request.body["contents"]
    assert sent[1]["role"] == "model" and sent[1]["parts"][0]["functionCall"]["name"] == \
        "get_weather"
    assert sent[2]["parts"][0]["functionResponse"] == {
        "id": call.id, "name": "get_weather", "response": {"result": "18 degrees and sunny"}}


def test_a_wrong_key_is_an_auth_error_without_the_key(fake_vendor):
    handler = make_handler(fake_vendor, api_key="AIza-wrong-key-0123456789")
    try:
        with pytest.raises(VendorAuthError) as refused:
            handler.complete(ask())
    finally:
        handler.close()
    assert "AIza-wrong-key" not in str(refused.value)


@pytest.mark.parametrize(("model", "error"), [("error-429", VendorRateLimited),
                                              ("error-503", VendorUnavailable),
                                              ("error-404", VendorModelNotFound)])
def test_vendor_errors_map_to_parlor_errors_plain_and_streamed(handler, model, error):
    with pytest.raises(error):
        handler.complete(ask(model=model))
    with pytest.raises(error):
        list(handler.stream(ask(model=model)))


def test_a_rate_limit_carries_the_vendors_retry_after(handler, fake_vendor):
    with pytest.raises(VendorRateLimited) as limited:
        handler.complete(ask(model="error-429"))
    assert limited.value.retry_after == float(fake_vendor.retry_after)


def test_the_model_list_drops_the_models_prefix(handler):
    assert "fake-chat" in handler.models()
