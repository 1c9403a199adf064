"""Gemini and Bedrock streams under the stall watchdog, as OpenAI's and Anthropic's are: the
fake vendor streams two pieces in each vendor's own format, then goes silent; the stream ends
with Parlor's timeout naming the idle limit, soon after it, and the upstream is hung up on."""

from __future__ import annotations

import time

import pytest

from app.vendors.bedrock import BedrockHandler
from app.vendors.errors import VendorTimeout
from app.vendors.gemini import GeminiHandler
from app.vendors.types import ChatMessage, ChatRequest, Credential
from tests.fakes.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY

IDLE = 0.5


def gemini(fake, timeout=10.0, **limits) -> GeminiHandler:
    return GeminiHandler(Credential(
        name="google", kind="gemini", api_key=fake.api_key, base_url=fake.url, timeout=timeout,
        connect_timeout=2.0, options=tuple(limits.items())))


def bedrock(fake, timeout=10.0, **limits) -> BedrockHandler:
    return BedrockHandler(Credential(
        name="aws", kind="bedrock", base_url=fake.url, timeout=timeout, connect_timeout=2.0,
        options=(("aws_access_key_id", ACCESS_KEY_ID),
                 ("aws_secret_access_key", SECRET_ACCESS_KEY), ("region", "eu-central-1"),
                 *limits.items())))


ADAPTERS = {"gemini": gemini, "bedrock": bedrock}


def ask(text="one two three four five six") -> ChatRequest:
    return ChatRequest(model="stall-midway", messages=(ChatMessage("user", text),))


@pytest.fixture(params=sorted(ADAPTERS))
def make(request):
    handlers = []

    def build(fake, **fields):
        handler = ADAPTERS[request.param](fake, **fields)
        handlers.append(handler)
        return handler

    yield build
    for handler in handlers:
        handler.close()


def test_a_stream_that_stalls_midway_ends_with_the_idle_timeout(make, fake_vendor):
    handler = make(fake_vendor, first_token_timeout=5.0, idle_timeout=IDLE)
    received = []
    started = time.monotonic()
    with pytest.raises(VendorTimeout) as stalled:
        for delta in handler.stream(ask()):
            received.append(delta.text)
    took = time.monotonic() - started
    assert "".join(received) == "Echo: one "  # the two pieces sent before the silence
    assert "exceeded the idle timeout" in str(stalled.value)
    assert IDLE <= took < IDLE + 2.0
    assert fake_vendor.wait_for_disconnect("stall-midway")


def test_the_total_limit_ends_a_stalled_stream_before_the_idle_one(make, fake_vendor):
    handler = make(fake_vendor, timeout=1.0, first_token_timeout=5.0, idle_timeout=30.0)
    started = time.monotonic()
    with pytest.raises(VendorTimeout) as stalled:
        list(handler.stream(ask()))
    assert "exceeded the total timeout" in str(stalled.value)
    assert time.monotonic() - started < 3.0


def test_a_stream_that_does_not_stall_is_not_cut(make, fake_vendor):
    handler = make(fake_vendor, first_token_timeout=5.0, idle_timeout=IDLE)
    request = ChatRequest(model="echo", messages=(ChatMessage("user", "all of it"),))
    deltas = list(handler.stream(request))
    assert "".join(d.text for d in deltas) == "Echo: all of it"
    assert deltas[-1].finish_reason == "stop"
