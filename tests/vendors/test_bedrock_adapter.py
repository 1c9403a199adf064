"""BedrockHandler against the fake vendor speaking Bedrock's Converse API: the real boto3 client
over real HTTP, every request SigV4-signed and checked by the fake, ConverseStream read from
AWS's binary event-stream framing. Nothing mocked."""

from __future__ import annotations

import json

import pytest

from app.vendors import HANDLERS
from app.vendors.bedrock import BedrockHandler
from app.vendors.errors import (
    VendorAuthError,
    VendorModelNotFound,
    VendorRateLimited,
    VendorUnavailable,
)
from app.vendors.types import ChatMessage, ChatRequest, Credential, ToolCall, ToolSpec
from tests.fakes.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
WEATHER = ToolSpec(name="get_weather", description="Current weather for a city",
                   parameters={"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"]})


def make_handler(fake, *, key_id=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY):
    return BedrockHandler(Credential(
        name="aws", kind="bedrock", base_url=fake.url, timeout=10.0, connect_timeout=2.0,
        options=(("aws_access_key_id", key_id), ("aws_secret_access_key", secret),
                 ("region", "eu-central-1"))))


def ask(model=MODEL, text="hello bedrock", **fields) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage("system", "Be brief."),
                                              ChatMessage("user", text)), **fields)


@pytest.fixture
def handler(fake_vendor):
    handler = make_handler(fake_vendor)
    yield handler
    handler.close()


def test_the_registry_maps_the_bedrock_kind_to_its_adapter():
    assert HANDLERS["bedrock"] is BedrockHandler


def test_a_plain_call_is_a_signed_converse_request_with_usage(handler, fake_vendor):
    result = handler.complete(ask(max_tokens=50, temperature=0.3))
    assert result.text == "Echo: hello bedrock" and result.finish_reason == "stop"
    assert result.usage.input_tokens == 4 and result.usage.output_tokens == 3
    sent = fake_vendor.last_request
    assert sent.path == "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    credential = sent.headers["authorization"].split("Credential=")[1].split(",")[0]
    assert credential.startswith(ACCESS_KEY_ID + "/")
    assert credential.endswith("/eu-central-1/bedrock/aws4_request")
    assert sent.body["system"] == [{"text": "Be brief."}]
    assert sent.body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.3}


def test_max_tokens_cuts_the_reply_with_finish_length(handler):
    result = handler.complete(ask(text="one two three four", max_tokens=2))
    assert result.finish_reason == "length" and result.text == "Echo: one "


def test_converse_stream_is_read_from_the_event_stream(handler, fake_vendor):
    deltas = list(handler.stream(ask(text="one two three four five")))
    texts = [d.text for d in deltas if d.text]
    assert len(texts) > 1 and "".join(texts) == "Echo: one two three four five"
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage.output_tokens == 6
    assert fake_vendor.last_request.path.endswith("/converse-stream")


def test_a_tool_use_comes_back_and_its_result_goes_back(handler, fake_vendor):
    request = ask(model="tool-call", text="Paris", tools=(WEATHER,), tool_choice="required")
    result = handler.complete(request)
    assert result.finish_reason == "tool_calls"
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [
        ("get_weather", {"query": "Paris"})]
    config = fake_vendor.last_request.body["toolConfig"]
    assert config["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"] == ["city"]
    assert config["toolChoice"] == {"any": {}}

    deltas = list(handler.stream(request))
    calls = [d.tool_call for d in deltas if d.tool_call]
    assert calls[0].name == "get_weather" and calls[0].id == "tooluse_fake0"
    assert json.loads("".join(c.arguments for c in calls)) == {"query": "Paris"}
    assert deltas[-1].finish_reason == "tool_calls"

    call = result.tool_calls[0]
    follow_up = ChatRequest(model="tool-call", tools=(WEATHER,), messages=(
        ChatMessage("user", "Paris"),
        ChatMessage("assistant", tool_calls=(ToolCall(call.id, call.name, call.arguments),)),
        ChatMessage("tool", "18 degrees", tool_call_id=call.id)))
    assert handler.complete(follow_up).text == "Tool said: 18 degrees"
    sent = fake_vendor.last_request.body["messages"]
    assert sent[1]["content"][0]["toolUse"]["input"] == {"query": "Paris"}
    assert sent[2] == {"role": "user", "content": [{"toolResult": {
        "toolUseId": call.id, "content": [{"text": "18 degrees"}]}}]}


@pytest.mark.parametrize(("key_id", "secret"), [("AKIAUNKNOWN000000000", SECRET_ACCESS_KEY),
                                                (ACCESS_KEY_ID, "a-wrong-secret-key-0000000")])
def test_an_unknown_key_or_a_wrong_signature_is_an_auth_error(fake_vendor, key_id, secret):
    handler = make_handler(fake_vendor, key_id=key_id, secret=secret)
    try:
        with pytest.raises(VendorAuthError) as refused:
            handler.complete(ask())
    finally:
        handler.close()
    assert secret not in str(refused.value)


@pytest.mark.parametrize(("model", "error"), [("error-429", VendorRateLimited),
                                              ("error-503", VendorUnavailable),
                                              ("error-404", VendorModelNotFound)])
def test_vendor_errors_map_to_parlor_errors_plain_and_streamed(handler, model, error):
    with pytest.raises(error):
        handler.complete(ask(model=model))
    with pytest.raises(error):
        list(handler.stream(ask(model=model)))


def test_an_exception_event_inside_the_stream_is_unavailable(handler):
    with pytest.raises(VendorUnavailable):
        list(handler.stream(ask(model="stream-error", text="one two three four five")))


def test_the_model_list_comes_from_the_control_plane(handler, fake_vendor):
    assert "fake-chat" in handler.models()
    assert fake_vendor.last_request.path == "/foundation-models"
