"""OpenAIHandler against the fake vendor: the real openai SDK over real HTTP, nothing mocked."""

from __future__ import annotations

import json
import socket
import time
import traceback

import pytest

from app.vendors.errors import (
    VendorAuthError,
    VendorBadRequest,
    VendorError,
    VendorModelNotFound,
    VendorRateLimited,
    VendorTimeout,
    VendorUnavailable,
)
from app.vendors.openai import OpenAIHandler
from app.vendors.transport import POOL_SHARDS
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Credential,
    Delta,
    ToolCall,
    ToolSpec,
    Usage,
)
from tests.vendors.conftest import chat_calls_and_sdk_headers

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)


def ask(model: str = "fake-chat", text: str = "hello there", **fields) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage("user", text),), **fields)


def make_handler(fake, *, kind="openai", api_key=None, timeout=10.0, base_url=None):
    return OpenAIHandler(Credential(
        name="acme", kind=kind, api_key=fake.api_key if api_key is None else api_key,
        base_url=base_url or fake.openai_base_url, timeout=timeout, connect_timeout=2.0,
    ))


@pytest.fixture
def handler(fake_vendor):
    handler = make_handler(fake_vendor)
    yield handler
    handler.close()


def collect(deltas) -> list[Delta]:
    return list(deltas)


# -- completions ------------------------------------------------------------------------------


def test_openai_complete_returns_text_finish_usage_and_ids(handler, fake_vendor):
    result = handler.complete(ask(text="hello there"))

    assert result.text == "Echo: hello there"
    assert result.finish_reason == "stop"
    assert result.usage == Usage(input_tokens=2, output_tokens=3)
    assert result.usage.total_tokens == 5
    assert result.model == "fake-chat"
    assert result.id == "chatcmpl-fake"
    assert result.tool_calls == ()
    sent = fake_vendor.last_request
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {fake_vendor.api_key}"
    assert sent.body["messages"] == [{"role": "user", "content": "hello there"}]
    assert "stream" not in sent.body


def test_openai_stream_deltas_join_into_the_text_and_the_last_carries_finish_and_usage(
    handler, fake_vendor
):
    deltas = collect(handler.stream(ask(text="stream me please")))

    assert "".join(d.text for d in deltas) == "Echo: stream me please"
    assert len([d for d in deltas if d.text]) == 4  # one delta per word
    last = deltas[-1]
    assert last.finish_reason == "stop"
    assert last.usage == Usage(input_tokens=3, output_tokens=4)
    assert all(d.finish_reason is None and d.usage is None for d in deltas[:-1])
    sent = fake_vendor.last_request.body
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


def test_openai_streams_one_after_another_reuse_pooled_upstream_connections(handler,
                                                                            fake_vendor):
    for n in range(3 * POOL_SHARDS):
        collect(handler.stream(ask(text=f"stream number {n}")))
    handler.complete(ask(text="plain"))

    ports = {request.client_port for request in fake_vendor.requests}
    assert len(fake_vendor.requests) == 3 * POOL_SHARDS + 1
    # each stream was read to its end and its connection pooled again: at most one
    # connection per pool shard, however many calls went by
    assert len(ports) <= POOL_SHARDS


def test_openai_models_lists_the_vendor_model_ids_sorted(handler, fake_vendor):
    fake_vendor.models = ["zeta-1", "alpha-2", "mid-3"]

    assert handler.models() == ["alpha-2", "mid-3", "zeta-1"]
    sent = fake_vendor.last_request
    assert (sent.method, sent.path) == ("GET", "/v1/models")
    assert "anthropic-version" not in sent.headers


def test_openai_length_finish_is_reported_plain_and_streamed(handler):
    result = handler.complete(ask("length", "one two three four five"))
    assert result.finish_reason == "length"
    assert result.text == "Echo: one "

    deltas = collect(handler.stream(ask("length", "one two three four five")))
    assert deltas[-1].finish_reason == "length"
    assert "".join(d.text for d in deltas) == "Echo: one "


def test_openai_max_tokens_truncation_reports_length(handler):
    result = handler.complete(ask(text="a b c d e f", max_tokens=3))

    assert result.finish_reason == "length"
    assert result.text == "Echo: a b "
    assert result.usage.output_tokens == 3


# -- request translation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "sent_field", "absent_field"),
    [("openai", "max_completion_tokens", "max_tokens"),
     ("openai-compatible", "max_tokens", "max_completion_tokens")],
)
def test_openai_max_tokens_field_depends_on_credential_kind(
    fake_vendor, kind, sent_field, absent_field
):
    handler = make_handler(fake_vendor, kind=kind)
    try:
        handler.complete(ask(max_tokens=50))
    finally:
        handler.close()

    body = fake_vendor.last_request.body
    assert body[sent_field] == 50
    assert absent_field not in body


def test_openai_unset_fields_are_not_sent(handler, fake_vendor):
    handler.complete(ask())

    body = fake_vendor.last_request.body
    for name in ("max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "user",
                 "tools", "tool_choice"):
        assert name not in body


def test_openai_request_keeps_system_role_and_passes_sampling_stop_and_user(handler, fake_vendor):
    request = ChatRequest(
        model="fake-chat",
        messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "hi")),
        temperature=0.3, top_p=0.9, stop=("END", "STOP"), user="user-42",
    )
    handler.complete(request)

    body = fake_vendor.last_request.body
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "hi"}]
    assert body["temperature"] == 0.3
    assert body["top_p"] == 0.9
    assert body["stop"] == ["END", "STOP"]
    assert body["user"] == "user-42"


@pytest.mark.parametrize(
    ("tool_choice", "sent"),
    [("auto", "auto"), ("none", "none"), ("required", "required"),
     ("get_weather", {"type": "function", "function": {"name": "get_weather"}})],
)
def test_openai_tools_and_tool_choice_are_translated(handler, fake_vendor, tool_choice, sent):
    handler.complete(ask(tools=(WEATHER,), tool_choice=tool_choice))

    body = fake_vendor.last_request.body
    assert body["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city",
        "parameters": WEATHER.parameters}}]
    assert body["tool_choice"] == sent


# -- tool calls -------------------------------------------------------------------------------


def test_openai_tool_call_plain_returns_the_call_and_tool_calls_finish(handler):
    result = handler.complete(ask("tool-call", "weather in Paris", tools=(WEATHER,)))

    assert result.finish_reason == "tool_calls"
    assert result.text == ""
    assert result.tool_calls == (
        ToolCall(id="call_fake0", name="get_weather",
                 arguments=json.dumps({"query": "weather in Paris"})),
    )


def test_openai_tool_call_streamed_fragments_reassemble_into_the_call(handler):
    deltas = collect(handler.stream(ask("tool-call", "weather in Paris", tools=(WEATHER,))))

    fragments = [d.tool_call for d in deltas if d.tool_call is not None]
    assert len(fragments) > 2  # the arguments really arrive in pieces
    first = fragments[0]
    assert (first.index, first.id, first.name) == (0, "call_fake0", "get_weather")
    assert all(f.index == 0 and f.id is None and f.name is None for f in fragments[1:])
    arguments = "".join(f.arguments for f in fragments)
    assert json.loads(arguments) == {"query": "weather in Paris"}
    assert deltas[-1].finish_reason == "tool_calls"
    assert deltas[-1].usage.output_tokens > 0


def test_openai_parallel_tool_calls_streamed_keep_their_indexes(handler):
    clock = ToolSpec(name="get_time")
    deltas = collect(handler.stream(ask("parallel-tool-calls", "now", tools=(WEATHER, clock))))

    starts = [d.tool_call for d in deltas if d.tool_call and d.tool_call.id]
    assert [(s.index, s.name) for s in starts] == [(0, "get_weather"), (1, "get_time")]
    for index in (0, 1):
        joined = "".join(d.tool_call.arguments for d in deltas
                         if d.tool_call and d.tool_call.index == index)
        assert json.loads(joined) == {"query": "now"}


def test_openai_tool_round_trip_sends_assistant_calls_and_tool_results(handler, fake_vendor):
    call = ToolCall(id="call_1", name="get_weather", arguments='{"city": "Paris"}')
    request = ChatRequest(
        model="tool-call",
        messages=(
            ChatMessage("user", "weather in Paris?"),
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", "18C and sunny", tool_call_id="call_1"),
        ),
        tools=(WEATHER,),
    )
    result = handler.complete(request)

    assert result.text == "Tool said: 18C and sunny"
    assert result.finish_reason == "stop"
    messages = fake_vendor.last_request.body["messages"]
    assert messages[1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}
    assert messages[2] == {"role": "tool", "content": "18C and sunny", "tool_call_id": "call_1"}


# -- error translation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "error"),
    [("error-400", VendorBadRequest), ("error-401", VendorAuthError),
     ("error-403", VendorAuthError), ("error-404", VendorModelNotFound),
     ("error-500", VendorUnavailable), ("error-503", VendorUnavailable),
     ("error-529", VendorUnavailable), ("error-504", VendorTimeout)],
)
def test_openai_status_errors_become_vendor_errors(handler, model, error):
    with pytest.raises(error) as caught:
        handler.complete(ask(model))

    assert type(caught.value) is error
    assert caught.value.vendor == "acme"
    assert caught.value.__cause__ is None


def test_openai_400_keeps_the_upstream_message_and_is_not_retryable(handler):
    with pytest.raises(VendorBadRequest) as caught:
        handler.complete(ask("error-400"))

    assert "messages.0.content is malformed" in caught.value.message
    assert not caught.value.retryable


def test_openai_404_becomes_model_not_found(handler):
    with pytest.raises(VendorModelNotFound) as caught:
        handler.complete(ask("error-404"))
    assert "does not exist" in str(caught.value)


def test_openai_429_becomes_rate_limited_with_retry_after(handler, fake_vendor):
    fake_vendor.retry_after = "7"
    with pytest.raises(VendorRateLimited) as caught:
        handler.complete(ask("error-429"))

    assert caught.value.retry_after == 7.0
    assert caught.value.retryable
    assert len(fake_vendor.requests) == 1  # the SDK itself did not retry


def test_openai_429_on_stream_open_becomes_rate_limited(handler):
    with pytest.raises(VendorRateLimited) as caught:
        collect(handler.stream(ask("error-429-after-3")))
    assert caught.value.retry_after == 3.0


def test_openai_500_and_529_are_retryable_unavailable(handler):
    for model in ("error-500", "error-529"):
        with pytest.raises(VendorUnavailable) as caught:
            handler.complete(ask(model))
        assert caught.value.retryable


def test_openai_wrong_key_becomes_auth_error(fake_vendor):
    handler = make_handler(fake_vendor, api_key="sk-not-the-right-one")
    try:
        with pytest.raises(VendorAuthError):
            handler.models()
    finally:
        handler.close()
    assert fake_vendor.last_request.headers["authorization"] == "Bearer sk-not-the-right-one"


def test_openai_stream_cut_midway_becomes_unavailable(handler):
    received: list[Delta] = []
    with pytest.raises(VendorUnavailable) as caught:
        for delta in handler.stream(ask("cut-stream", "one two three four")):
            received.append(delta)

    assert "".join(d.text for d in received) == "Echo: one "  # what came before the cut
    assert all(d.finish_reason is None for d in received)
    assert caught.value.retryable


def test_openai_in_band_stream_error_becomes_unavailable(handler):
    received: list[Delta] = []
    with pytest.raises(VendorUnavailable) as caught:
        for delta in handler.stream(ask("stream-error", "one two three four")):
            received.append(delta)

    assert "".join(d.text for d in received) == "Echo: one "
    assert "error while streaming" in caught.value.message


def test_openai_slow_first_byte_beyond_timeout_becomes_vendor_timeout(fake_vendor):
    handler = make_handler(fake_vendor, timeout=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(VendorTimeout):
            handler.complete(ask("slow-first-byte-1"))
        with pytest.raises(VendorTimeout):
            collect(handler.stream(ask("slow-first-byte-1")))
        assert time.monotonic() - started < 1.5
    finally:
        handler.close()


def test_openai_slow_first_byte_within_timeout_succeeds(fake_vendor):
    handler = make_handler(fake_vendor, timeout=2.0)
    try:
        assert handler.complete(ask("slow-first-byte-0.1", "late")).text == "Echo: late"
    finally:
        handler.close()


def test_openai_stream_stalling_midway_becomes_vendor_timeout(fake_vendor):
    fake_vendor.chunk_delay = 0.5
    handler = make_handler(fake_vendor, timeout=0.2)
    try:
        with pytest.raises(VendorTimeout):
            collect(handler.stream(ask("slow-stream")))
    finally:
        handler.close()


def test_openai_unreachable_vendor_becomes_unavailable(fake_vendor):
    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = make_handler(fake_vendor, base_url=f"http://127.0.0.1:{port}/v1")
    try:
        with pytest.raises(VendorUnavailable):
            handler.complete(ask())
    finally:
        handler.close()


# -- secrets ----------------------------------------------------------------------------------


def assert_secret_absent(exc: BaseException, secret: str) -> None:
    rendered = "".join(traceback.format_exception(exc))
    for text in (str(exc), repr(exc), repr(exc.args), rendered):
        assert secret not in text


def test_openai_api_key_never_appears_in_errors_or_reprs(fake_vendor):
    secret = "sk-live-SECRET-4242424242"
    credential = Credential(name="acme", kind="openai", api_key=secret,
                            base_url=fake_vendor.openai_base_url)
    handler = OpenAIHandler(credential)
    try:
        with pytest.raises(VendorAuthError) as caught:
            handler.complete(ask())
        assert fake_vendor.last_request.headers["authorization"] == f"Bearer {secret}"
        # the fake echoes the presented key in its 401 message, as OpenAI does: scrubbed here
        assert "Incorrect API key provided: ***" in caught.value.message
        assert_secret_absent(caught.value, secret)

        with pytest.raises(VendorAuthError) as streamed:
            collect(handler.stream(ask()))
        assert_secret_absent(streamed.value, secret)

        assert secret not in repr(credential)
        assert secret not in repr(handler)
    finally:
        handler.close()


def test_openai_errors_are_vendor_errors_never_sdk_exceptions(handler):
    for model in ("error-400", "error-429", "error-500", "cut-stream", "stream-error"):
        with pytest.raises(VendorError) as caught:
            collect(handler.stream(ask(model)))
        assert type(caught.value).__module__ == "app.vendors.errors"


def test_openai_chat_calls_carry_the_sdk_clients_auth_and_platform_headers(handler, fake_vendor):
    """Chat calls skip the SDK's per-call ``post()`` but must look as the SDK sends them."""
    chat_calls, models_call = chat_calls_and_sdk_headers(handler, fake_vendor, ask())
    for sent in chat_calls:
        assert sent.path == "/v1/chat/completions"
        assert sent.headers["authorization"] == f"Bearer {fake_vendor.api_key}"
        assert sent.headers["content-type"] == "application/json"
        for name in ("user-agent", "x-stainless-lang", "x-stainless-package-version"):
            assert sent.headers[name] == models_call[name]
