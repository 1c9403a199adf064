"""AzureOpenAIHandler against the fake vendor speaking Azure's wire format (deployment in the
path, ``api-version`` query, ``api-key`` header): the real openai SDK's AzureOpenAI client
over real HTTP, nothing mocked."""

from __future__ import annotations

import json

import pytest

from app.vendors import HANDLERS
from app.vendors.azure import DEFAULT_API_VERSION, AzureOpenAIHandler
from app.vendors.errors import VendorAuthError, VendorRateLimited, VendorUnavailable
from app.vendors.types import ChatMessage, ChatRequest, Credential, ToolSpec

WEATHER = ToolSpec(name="get_weather", description="Current weather for a city",
                   parameters={"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"]})


def make_handler(fake, *, api_key=None, api_version="2025-01-01-preview"):
    options = (("api_version", api_version),) if api_version else ()
    return AzureOpenAIHandler(Credential(
        name="azure-east", kind="azure", api_key=fake.api_key if api_key is None else api_key,
        base_url=fake.url, timeout=10.0, connect_timeout=2.0, options=options))


def ask(model="gpt4o-prod", text="hello azure", **fields) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage("user", text),), **fields)


@pytest.fixture
def handler(fake_vendor):
    handler = make_handler(fake_vendor)
    yield handler
    handler.close()


def test_the_registry_maps_the_azure_kind_to_its_adapter():
    assert HANDLERS["azure"] is AzureOpenAIHandler


def test_a_plain_call_goes_to_the_deployment_with_the_api_version_and_api_key(handler,
                                                                               fake_vendor):
    result = handler.complete(ask())
    assert result.text == "Echo: hello azure"
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    sent = fake_vendor.last_request
    assert sent.path == "/openai/deployments/gpt4o-prod/chat/completions"
    assert sent.query["api-version"] == ["2025-01-01-preview"]
    assert sent.headers["api-key"] == fake_vendor.api_key
    assert "authorization" not in sent.headers


def test_the_default_api_version_is_used_when_the_credential_has_none(fake_vendor):
    handler = make_handler(fake_vendor, api_version=None)
    try:
        handler.complete(ask())
    finally:
        handler.close()
    assert fake_vendor.last_request.query["api-version"] == [DEFAULT_API_VERSION]


def test_a_streamed_call_yields_the_text_then_finish_and_usage(handler, fake_vendor):
    deltas = list(handler.stream(ask(text="one two three four five six seven")))
    assert "".join(d.text for d in deltas) == "Echo: one two three four five six seven"
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage.output_tokens > 0
    assert fake_vendor.last_request.body["stream"] is True
    assert fake_vendor.last_request.path.startswith("/openai/deployments/gpt4o-prod/")


def test_a_tool_call_comes_back_plain_and_streamed(handler):
    request = ask(model="tool-call", text="Paris", tools=(WEATHER,))
    result = handler.complete(request)
    assert result.finish_reason == "tool_calls"
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [
        ("get_weather", {"query": "Paris"})]
    deltas = list(handler.stream(request))
    calls = [d.tool_call for d in deltas if d.tool_call]
    assert calls[0].name == "get_weather"
    assert json.loads("".join(c.arguments for c in calls)) == {"query": "Paris"}
    assert deltas[-1].finish_reason == "tool_calls"


def test_a_wrong_key_is_an_auth_error_without_the_key(fake_vendor):
    handler = make_handler(fake_vendor, api_key="wrong-key-0123456789")
    try:
        with pytest.raises(VendorAuthError) as refused:
            handler.complete(ask())
    finally:
        handler.close()
    assert "wrong-key-0123456789" not in str(refused.value)


@pytest.mark.parametrize(("model", "error"), [("error-429", VendorRateLimited),
                                              ("error-503", VendorUnavailable)])
def test_vendor_errors_map_to_parlor_errors_plain_and_streamed(handler, model, error):
    with pytest.raises(error):
        handler.complete(ask(model=model))
    with pytest.raises(error):
        list(handler.stream(ask(model=model)))


def test_the_model_list_is_asked_with_the_api_version(handler, fake_vendor):
    assert "fake-chat" in handler.models()
    sent = fake_vendor.last_request
    assert sent.path == "/openai/models" and sent.query["api-version"] == ["2025-01-01-preview"]
