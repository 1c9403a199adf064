"""Each upstream request carries each header once, as the official SDK would send it.

The calls go through aiohttp's strict HTTP/1.1 parser (tests/fakes/strict_proxy.py), which
refuses a repeated singleton header as real aiohttp-based vendor servers do.
"""

from __future__ import annotations

import socket
import time

import pytest

from app.vendors.anthropic import AnthropicHandler
from app.vendors.openai import OpenAIHandler
from app.vendors.types import ChatMessage, ChatRequest, Credential

REQUEST = ChatRequest(model="fake-chat", messages=(ChatMessage("user", "hello there"),))


def handler_for(kind: str, base_url: str, api_key: str):
    handler_class = AnthropicHandler if kind == "anthropic" else OpenAIHandler
    return handler_class(Credential(name="strict", kind=kind, api_key=api_key,
                                    base_url=base_url, timeout=10.0, connect_timeout=2.0))


# What the SDK sends on its own calls that a prepared call leaves out: set per attempt, or
# marking a raw-response call.
SDK_PER_CALL = {"x-stainless-retry-count", "x-stainless-read-timeout", "x-stainless-timeout",
                "x-stainless-raw-response"}


def sdk_own_call(handler, kind: str):
    """The SDK's own chat call (no Parlor code on the way), as the fake vendor received it."""
    if kind == "anthropic":
        handler.client.messages.with_raw_response.create(
            model="fake-chat", max_tokens=64,
            messages=[{"role": "user", "content": "hello there"}])
    else:
        handler.client.chat.completions.with_raw_response.create(
            model="fake-chat", messages=[{"role": "user", "content": "hello there"}])


@pytest.mark.parametrize("kind, suffix, agent", [("openai", "/v1", "OpenAI/Python"),
                                                 ("anthropic", "", "Anthropic/Python")])
def test_calls_through_a_strict_parser_carry_each_header_once_as_the_sdk_sends_it(
        fake_vendor, strict_vendor_proxy, kind, suffix, agent):
    handler = handler_for(kind, strict_vendor_proxy.url + suffix, fake_vendor.api_key)
    try:
        sdk_own_call(handler, kind)
        result = handler.complete(REQUEST)
        deltas = list(handler.stream(REQUEST))
    finally:
        handler.close()
    assert result.text.startswith("Echo: hello there")
    assert deltas[-1].finish_reason == "stop"
    sdk, plain, streamed = fake_vendor.requests
    assert len(sdk.header_names) == len(set(sdk.header_names))  # the baseline is sound
    for call in (plain, streamed):
        names = call.header_names
        assert len(names) == len(set(names)), f"repeated headers: {sorted(names)}"
        assert call.headers["user-agent"] == sdk.headers["user-agent"]
        assert call.headers["user-agent"].startswith(agent)
        assert call.headers["accept"] == "application/json"
        assert set(names) <= set(sdk.header_names), "a header the SDK would not send"
        assert set(sdk.header_names) - set(names) <= SDK_PER_CALL
        for name in set(names) - {"content-length"}:
            # On purpose: a stream is asked for uncompressed, read as its bytes arrive.
            expected = ("identity" if call is streamed and name == "accept-encoding"
                        else sdk.headers[name])
            assert call.headers[name] == expected, name


def test_the_strict_proxy_relays_a_stream_as_it_arrives(fake_vendor, strict_vendor_proxy):
    handler = handler_for("openai", strict_vendor_proxy.url + "/v1", fake_vendor.api_key)
    started = time.monotonic()
    deltas = handler.stream(ChatRequest(model="slow-stream",
                                        messages=(ChatMessage("user", "go"),)))
    try:
        assert next(deltas).text
        # The whole stream takes seconds (hundreds of pieces 20 ms apart); its start does not.
        assert time.monotonic() - started < 2.0
    finally:
        deltas.close()
        handler.close()


def test_forwarded_headers_replace_the_clients_own_whatever_their_case(fake_vendor,
                                                                       strict_vendor_proxy):
    handler = handler_for("anthropic", strict_vendor_proxy.url, fake_vendor.api_key)
    try:
        handler.messages.post({"model": "fake-chat", "max_tokens": 5,
                               "messages": [{"role": "user", "content": "hi"}]},
                              headers={"ANTHROPIC-VERSION": "2023-06-01",
                                       "anthropic-beta": "context-management-2025-06-27"}).close()
    finally:
        handler.close()
    call = fake_vendor.last_request
    assert call.header_names.count("anthropic-version") == 1
    assert call.headers["anthropic-version"] == "2023-06-01"
    assert call.headers["anthropic-beta"] == "context-management-2025-06-27"


def raw_post(port: int, extra_headers: str) -> bytes:
    body = b'{"model":"fake-chat","messages":[{"role":"user","content":"hi"}]}'
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer sk-fake-0123456789abcdef\r\n"
            f"Content-Type: application/json\r\n{extra_headers}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head + body)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    return reply


def test_the_strict_parser_refuses_a_repeated_user_agent(fake_vendor, strict_vendor_proxy):
    twice = "User-Agent: python-httpx2/2\r\nUser-Agent: OpenAI/Python 3\r\n"
    refused = raw_post(strict_vendor_proxy.port, twice)
    assert refused.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    assert b"Duplicate 'User-Agent' header" in refused
    assert raw_post(strict_vendor_proxy.port, "User-Agent: OpenAI/Python 3\r\n").startswith(
        b"HTTP/1.1 200")


def test_the_fake_vendor_refuses_a_repeated_accept_as_strict_servers_do(fake_vendor):
    twice = "Accept: */*\r\nAccept: application/json\r\n"
    reply = raw_post(fake_vendor.port, twice)
    assert reply.startswith(b"HTTP/1.1 400")
    assert b"Duplicate header(s): accept" in reply
