"""A large base64 image a client sends to /v1 (through the official SDKs, over real HTTP)
reaches the vendor exactly as sent, in either direction across the wire formats: streamed from
the client's own base64 text (app/vendors/streamed_body.py), never decoded on the way; and the
request body is read as JSON as before (its encoding detected, bad bytes a 400)."""

from __future__ import annotations

import base64
import os

import anthropic
import openai
import pytest
import requests

from app.vendors.streamed_body import STREAM_FROM

ENCODED = base64.b64encode(os.urandom(STREAM_FROM + 4096)).decode()


@pytest.fixture
def app(make_app, vendor_env):
    return make_app(PARLOR_MAX_REQUEST_BYTES=4 * 1024 * 1024, **vendor_env)


@pytest.fixture
def openai_client(live_server, make_key):
    with openai.OpenAI(base_url=live_server + "/v1", api_key=make_key(),
                       max_retries=0) as client:
        yield client


@pytest.fixture
def anthropic_client(live_server, make_key):
    with anthropic.Anthropic(base_url=live_server, api_key=make_key(),
                             max_retries=0) as client:
        yield client


def last_call(fake_vendor):
    call = [r for r in fake_vendor.requests if r.method == "POST"][-1]
    assert call.header_names.count("content-length") == 1
    assert "transfer-encoding" not in call.headers
    return call


@pytest.mark.parametrize("model, protocol", [("openai/fake-vision", "openai"),
                                             ("anthropic/fake-vision", "anthropic")])
def test_an_openai_clients_large_image_reaches_either_vendor_whole(
        openai_client, fake_vendor, model, protocol):
    reply = openai_client.chat.completions.create(model=model, messages=[{
        "role": "user", "content": [
            {"type": "text", "text": "Describe"},
            {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{ENCODED}"}}]}])
    assert reply.choices[0].finish_reason == "stop"
    call = last_call(fake_vendor)
    assert call.protocol == protocol
    sent = call.body["messages"][-1]["content"][1]
    if protocol == "openai":
        assert sent == {"type": "image_url",
                        "image_url": {"url": f"data:image/jpeg;base64,{ENCODED}"}}
    else:
        assert sent == {"type": "image", "source": {"type": "base64",
                                                    "media_type": "image/jpeg", "data": ENCODED}}


@pytest.mark.parametrize("model, protocol", [("anthropic/fake-vision", "anthropic"),
                                             ("openai/fake-vision", "openai")])
def test_an_anthropic_clients_large_image_reaches_either_vendor_whole(
        anthropic_client, fake_vendor, model, protocol):
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": ENCODED}}
    reply = anthropic_client.messages.create(model=model, max_tokens=50, messages=[{
        "role": "user", "content": [block, {"type": "text", "text": "Describe"}]}])
    assert reply.stop_reason == "end_turn"
    call = last_call(fake_vendor)
    assert call.protocol == protocol
    sent = call.body["messages"][-1]["content"][0]
    if protocol == "anthropic":
        assert sent == block  # the client's own block, as sent
    else:
        assert sent == {"type": "image_url",
                        "image_url": {"url": f"data:image/png;base64,{ENCODED}"}}


def test_a_utf16_body_is_read_and_bytes_that_are_no_text_get_a_400(live_server, make_key,
                                                                   fake_vendor):
    headers = {"Authorization": f"Bearer {make_key()}", "Content-Type": "application/json"}
    body = '{"model": "openai/fake-chat", "messages": [{"role": "user", "content": "héllo"}]}'
    answered = requests.post(live_server + "/v1/chat/completions", headers=headers,
                             data=body.encode("utf-16"), timeout=10)
    assert answered.status_code == 200, answered.text
    assert last_call(fake_vendor).body["messages"][0]["content"] == "héllo"
    refused = requests.post(live_server + "/v1/chat/completions", headers=headers,
                            data=b'{"model": "\xff\xfe\xfa"}', timeout=10)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "The request body is not valid JSON."
