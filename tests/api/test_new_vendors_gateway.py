"""The new vendor kinds behind the gateway: a route to an Azure OpenAI deployment, a Gemini
model and a Bedrock model, each called through /v1/chat/completions (the openai SDK) and
/v1/messages (the anthropic SDK), plain, streamed and with a tool, against the fake vendor
speaking each vendor's own wire format over real HTTP."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services import vendor_credentials
from app.services.actor import Actor
from tests.fakes.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
# kind -> (the stored vendor's fields, the path its chat calls reach on the fake)
KINDS = {
    "azure": ({"settings": {"api_version": "2025-03-01-preview"}},
              "/openai/deployments/{model}/chat/completions"),
    "gemini": ({}, "/v1/models/{model}:{method}"),
    "bedrock": ({"api_key": None, "settings": {
        "region": "us-west-2", "aws_access_key_id": ACCESS_KEY_ID,
        "aws_secret_access_key": SECRET_ACCESS_KEY}}, "/model/{model}/{operation}"),
}


@pytest.fixture(params=sorted(KINDS))
def vendor_route(request, app, fake_vendor):
    """A stored vendor of the kind and the routes ``chat`` (echo) and ``tools`` (tool-call)."""
    kind = request.param
    fields, _ = KINDS[kind]
    with app.app_context():
        vendor_credentials.add(Actor(user_id=None, ip="127.0.0.1"), name=f"my-{kind}",
                               kind=kind, base_url=fake_vendor.url,
                               **{"api_key": fake_vendor.api_key, **fields})
        credential = db.session.query(VendorCredential).filter_by(name=f"my-{kind}").one()
        db.session.add_all([
            ModelRoute(public_name="chat", credential=credential, upstream_model="deploy-chat"),
            ModelRoute(public_name="tools", credential=credential, upstream_model="tool-call")])
        db.session.commit()
    return kind


def test_chat_completions_plain_and_streamed(openai_client, fake_vendor, vendor_route):
    answer = openai_client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hello vendor"}])
    assert answer.choices[0].message.content == "Echo: hello vendor"
    assert answer.usage.completion_tokens > 0
    path = KINDS[vendor_route][1].format(model="deploy-chat", method="generateContent",
                                         operation="converse")
    assert fake_vendor.last_request.path == path

    stream = openai_client.chat.completions.create(
        model="chat", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "one two three four"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: one two three four"
    assert chunks[-1].usage.completion_tokens > 0


def test_chat_completions_tool_call(openai_client, vendor_route):
    answer = openai_client.chat.completions.create(
        model="tools", tools=[WEATHER],
        messages=[{"role": "user", "content": "Paris"}])
    call = answer.choices[0].message.tool_calls[0]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"query": "Paris"}


def test_messages_plain_and_streamed(anthropic_client, fake_vendor, vendor_route):
    message = anthropic_client.messages.create(
        model="chat", max_tokens=100, messages=[{"role": "user", "content": "hi from claude"}])
    assert message.content[0].text == "Echo: hi from claude"
    assert message.usage.output_tokens > 0

    with anthropic_client.messages.stream(
            model="chat", max_tokens=100,
            messages=[{"role": "user", "content": "streamed words here"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Echo: streamed words here" and final.stop_reason == "end_turn"
    path = KINDS[vendor_route][1].format(model="deploy-chat", method="streamGenerateContent",
                                         operation="converse-stream")
    assert fake_vendor.last_request.path == path


def test_messages_tool_use(anthropic_client, vendor_route):
    message = anthropic_client.messages.create(
        model="tools", max_tokens=100, messages=[{"role": "user", "content": "Rome"}],
        tools=[{"name": "get_weather", "description": "Current weather for a city",
                "input_schema": WEATHER["function"]["parameters"]}])
    uses = [b for b in message.content if b.type == "tool_use"]
    assert message.stop_reason == "tool_use"
    assert [(u.name, u.input) for u in uses] == [("get_weather", {"query": "Rome"})]


def test_a_vendor_error_reaches_the_client_in_its_wire_format(
        app, openai_client, fake_vendor, vendor_route):
    import openai

    with app.app_context():
        credential = db.session.query(VendorCredential).filter_by(
            name=f"my-{vendor_route}").one()
        db.session.add(ModelRoute(public_name="limited", credential=credential,
                                  upstream_model="error-429"))
        db.session.commit()
    with pytest.raises(openai.RateLimitError):
        openai_client.chat.completions.create(
            model="limited", messages=[{"role": "user", "content": "hi"}])
