"""AnthropicHandler against the fake vendor: the real anthropic SDK over real HTTP, no mocks."""

from __future__ import annotations

import json
import socket
import time
import traceback

import pytest

from app.vendors.anthropic import DEFAULT_MAX_TOKENS, AnthropicHandler
from app.vendors.errors import (
    VendorAuthError,
    VendorBadRequest,
    VendorError,
    VendorModelNotFound,
    VendorRateLimited,
    VendorTimeout,
    VendorUnavailable,
)
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


def ask(model: str = "claude-fake", text: str = "hello there", **fields) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage("user", text),), **fields)


def make_handler(fake, *, api_key=None, timeout=10.0, base_url=None):
    return AnthropicHandler(Credential(
        name="claude", kind="anthropic", api_key=fake.api_key if api_key is None else api_key,
        base_url=base_url or fake.anthropic_base_url, timeout=timeout, connect_timeout=2.0,
    ))


@pytest.fixture
def handler(fake_vendor):
    handler = make_handler(fake_vendor)
    yield handler
    handler.close()


def collect(deltas) -> list[Delta]:
    return list(deltas)


# -- completions ------------------------------------------------------------------------------


def test_anthropic_complete_returns_text_finish_usage_and_ids(handler, fake_vendor):
    result = handler.complete(ask(text="hello there"))

    assert result.text == "Echo: hello there"
    assert result.finish_reason == "stop"
    assert result.usage == Usage(input_tokens=2, output_tokens=3)
    assert result.model == "claude-fake"
    assert result.id == "msg_fake"
    assert result.tool_calls == ()
    sent = fake_vendor.last_request
    assert sent.path == "/v1/messages"
    assert "anthropic-version" in sent.headers
    assert sent.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hello there"}]}]
    assert "stream" not in sent.body


def test_anthropic_stream_deltas_join_into_the_text_and_the_last_carries_finish_and_usage(
    handler, fake_vendor
):
    deltas = collect(handler.stream(ask(text="stream me please")))

    assert "".join(d.text for d in deltas) == "Echo: stream me please"
    assert len([d for d in deltas if d.text]) == 4
    last = deltas[-1]
    assert last.finish_reason == "stop"
    assert last.usage == Usage(input_tokens=3, output_tokens=4)
    assert all(d.finish_reason is None and d.usage is None for d in deltas[:-1])
    assert fake_vendor.last_request.body["stream"] is True


def test_anthropic_models_lists_the_vendor_model_ids_sorted(handler, fake_vendor):
    fake_vendor.models = ["claude-zeta", "claude-alpha"]

    assert handler.models() == ["claude-alpha", "claude-zeta"]
    sent = fake_vendor.last_request
    assert (sent.method, sent.path) == ("GET", "/v1/models")
    assert "anthropic-version" in sent.headers
    assert len(fake_vendor.requests) == 1  # has_more false: no second page asked for


def test_anthropic_max_tokens_stop_reason_becomes_length(handler):
    result = handler.complete(ask("length", "one two three four five"))
    assert result.finish_reason == "length"
    assert result.text == "Echo: one "

    deltas = collect(handler.stream(ask("length", "one two three four five")))
    assert deltas[-1].finish_reason == "length"
    assert "".join(d.text for d in deltas) == "Echo: one "


def test_anthropic_stop_sequence_stop_reason_becomes_stop(handler, fake_vendor):
    result = handler.complete(ask(text="alpha beta END gamma", stop=("END",)))

    assert result.finish_reason == "stop"
    assert result.text == "Echo: alpha beta "
    assert fake_vendor.last_request.body["stop_sequences"] == ["END"]


# -- request translation ----------------------------------------------------------------------


def test_anthropic_system_messages_become_top_level_system(handler, fake_vendor):
    request = ChatRequest(
        model="claude-fake",
        messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "hi"),
                  ChatMessage("system", "Answer in French.")),
    )
    result = handler.complete(request)

    body = fake_vendor.last_request.body
    assert body["system"] == "Be brief.\n\nAnswer in French."
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert result.usage.input_tokens == 1 + 5  # "hi" + the system prompt


def test_anthropic_max_tokens_defaults_and_is_passed_through(handler, fake_vendor):
    handler.complete(ask())
    assert fake_vendor.last_request.body["max_tokens"] == DEFAULT_MAX_TOKENS == 4096

    handler.complete(ask(max_tokens=64))
    assert fake_vendor.last_request.body["max_tokens"] == 64


def test_anthropic_stop_becomes_stop_sequences_and_user_becomes_metadata(handler, fake_vendor):
    handler.complete(ask(stop=("END", "STOP"), user="user-42"))

    body = fake_vendor.last_request.body
    assert body["stop_sequences"] == ["END", "STOP"]
    assert "stop" not in body
    assert body["metadata"] == {"user_id": "user-42"}


def test_anthropic_sampling_parameters_are_not_sent(handler, fake_vendor):
    handler.complete(ask(temperature=0.5, top_p=0.9))

    body = fake_vendor.last_request.body
    assert "temperature" not in body
    assert "top_p" not in body
    assert "system" not in body


@pytest.mark.parametrize(
    ("tool_choice", "sent"),
    [("auto", {"type": "auto"}), ("none", {"type": "none"}), ("required", {"type": "any"}),
     ("get_weather", {"type": "tool", "name": "get_weather"})],
)
def test_anthropic_tools_and_tool_choice_are_translated(handler, fake_vendor, tool_choice, sent):
    handler.complete(ask(tools=(WEATHER,), tool_choice=tool_choice))

    body = fake_vendor.last_request.body
    assert body["tools"] == [{"name": "get_weather", "description": "Current weather for a city",
                              "input_schema": WEATHER.parameters}]
    assert body["tool_choice"] == sent


def test_anthropic_consecutive_same_role_messages_are_merged(handler, fake_vendor):
    request = ChatRequest(
        model="claude-fake",
        messages=(ChatMessage("user", "first"), ChatMessage("user", "second"),
                  ChatMessage("assistant", "ok"), ChatMessage("user", "third")),
    )
    result = handler.complete(request)

    assert result.text == "Echo: third"
    assert fake_vendor.last_request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "first"},
                                     {"type": "text", "text": "second"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        {"role": "user", "content": [{"type": "text", "text": "third"}]},
    ]


# -- tool calls -------------------------------------------------------------------------------


def test_anthropic_tool_use_plain_returns_the_call_with_json_arguments(handler):
    result = handler.complete(ask("tool-call", "weather in Paris", tools=(WEATHER,)))

    assert result.finish_reason == "tool_calls"
    assert result.text == "Let me check."
    assert result.tool_calls == (
        ToolCall(id="toolu_fake0", name="get_weather",
                 arguments=json.dumps({"query": "weather in Paris"})),
    )


def test_anthropic_tool_use_streamed_numbers_calls_from_zero_after_a_text_block(handler):
    deltas = collect(handler.stream(ask("tool-call", "weather in Paris", tools=(WEATHER,))))

    assert "".join(d.text for d in deltas) == "Let me check."
    fragments = [d.tool_call for d in deltas if d.tool_call is not None]
    first = fragments[0]
    # the tool_use is content block 1 upstream, but the first tool call is index 0
    assert (first.index, first.id, first.name, first.arguments) == (
        0, "toolu_fake0", "get_weather", "")
    assert all(f.index == 0 and f.id is None for f in fragments[1:])
    assert json.loads("".join(f.arguments for f in fragments)) == {"query": "weather in Paris"}
    assert deltas[-1].finish_reason == "tool_calls"
    assert deltas[-1].usage.output_tokens > 0


def test_anthropic_parallel_tool_uses_streamed_get_consecutive_indexes(handler):
    clock = ToolSpec(name="get_time")
    deltas = collect(handler.stream(ask("parallel-tool-calls", "now", tools=(WEATHER, clock))))

    starts = [d.tool_call for d in deltas if d.tool_call and d.tool_call.id]
    assert [(s.index, s.name) for s in starts] == [(0, "get_weather"), (1, "get_time")]
    for index in (0, 1):
        joined = "".join(d.tool_call.arguments for d in deltas
                         if d.tool_call and d.tool_call.index == index)
        assert json.loads(joined) == {"query": "now"}


def test_anthropic_tool_round_trip_sends_tool_use_and_tool_result_blocks(handler, fake_vendor):
    calls = (ToolCall(id="toolu_1", name="get_weather", arguments='{"city": "Paris"}'),
             ToolCall(id="toolu_2", name="get_weather", arguments='{"city": "Oslo"}'))
    request = ChatRequest(
        model="tool-call",
        messages=(
            ChatMessage("user", "weather in Paris and Oslo?"),
            ChatMessage("assistant", "Checking.", tool_calls=calls),
            ChatMessage("tool", "18C", tool_call_id="toolu_1"),
            ChatMessage("tool", "3C", tool_call_id="toolu_2"),
        ),
        tools=(WEATHER,),
    )
    result = handler.complete(request)

    assert result.text == "Tool said: 18C 3C"
    messages = fake_vendor.last_request.body["messages"]
    assert messages[1] == {"role": "assistant", "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Oslo"}},
    ]}
    assert messages[2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "3C"},
    ]}


def test_anthropic_tool_results_go_before_text_in_their_user_turn(handler, fake_vendor):
    call = ToolCall(id="toolu_1", name="get_weather", arguments='{"city": "Paris"}')
    request = ChatRequest(
        model="claude-fake",
        messages=(
            ChatMessage("user", "weather?"),
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", "18C", tool_call_id="toolu_1"),
            ChatMessage("user", "thanks"),
        ),
    )
    handler.complete(request)

    last_turn = fake_vendor.last_request.body["messages"][-1]
    assert [b["type"] for b in last_turn["content"]] == ["tool_result", "text"]


def test_anthropic_tool_call_arguments_that_are_not_json_are_a_bad_request(handler, fake_vendor):
    call = ToolCall(id="toolu_1", name="get_weather", arguments="{not json")
    request = ChatRequest(model="claude-fake", messages=(
        ChatMessage("user", "hi"), ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "x", tool_call_id="toolu_1")))

    with pytest.raises(VendorBadRequest):
        handler.complete(request)
    assert fake_vendor.requests == []


# -- error translation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "error"),
    [("error-400", VendorBadRequest), ("error-401", VendorAuthError),
     ("error-403", VendorAuthError), ("error-404", VendorModelNotFound),
     ("error-500", VendorUnavailable), ("error-503", VendorUnavailable),
     ("error-529", VendorUnavailable), ("error-504", VendorTimeout)],
)
def test_anthropic_status_errors_become_vendor_errors(handler, model, error):
    with pytest.raises(error) as caught:
        handler.complete(ask(model))

    assert type(caught.value) is error
    assert caught.value.vendor == "claude"
    assert caught.value.__cause__ is None


def test_anthropic_error_message_is_the_inner_error_message(handler):
    with pytest.raises(VendorBadRequest) as caught:
        handler.complete(ask("error-400"))

    assert caught.value.message == (
        "Invalid request for model error-400: messages.0.content is malformed.")
    assert not caught.value.retryable


def test_anthropic_429_becomes_rate_limited_with_retry_after(handler, fake_vendor):
    fake_vendor.retry_after = "12"
    with pytest.raises(VendorRateLimited) as caught:
        handler.complete(ask("error-429"))

    assert caught.value.retry_after == 12.0
    assert caught.value.retryable
    assert len(fake_vendor.requests) == 1


def test_anthropic_429_on_stream_open_becomes_rate_limited(handler):
    with pytest.raises(VendorRateLimited) as caught:
        collect(handler.stream(ask("error-429-after-2")))
    assert caught.value.retry_after == 2.0


def test_anthropic_529_overloaded_becomes_unavailable(handler):
    with pytest.raises(VendorUnavailable) as caught:
        handler.complete(ask("error-529"))
    assert caught.value.message == "Overloaded"
    assert caught.value.retryable


def test_anthropic_wrong_key_becomes_auth_error(fake_vendor):
    handler = make_handler(fake_vendor, api_key="sk-ant-wrong")
    try:
        with pytest.raises(VendorAuthError):
            handler.complete(ask())
    finally:
        handler.close()


def test_anthropic_stream_cut_midway_becomes_unavailable(handler):
    received: list[Delta] = []
    with pytest.raises(VendorUnavailable) as caught:
        for delta in handler.stream(ask("cut-stream", "one two three four")):
            received.append(delta)

    assert "".join(d.text for d in received) == "Echo: one "
    assert all(d.finish_reason is None for d in received)
    assert caught.value.retryable


def test_anthropic_in_band_error_event_becomes_unavailable(handler):
    received: list[Delta] = []
    with pytest.raises(VendorUnavailable) as caught:
        for delta in handler.stream(ask("stream-error", "one two three four")):
            received.append(delta)

    assert "".join(d.text for d in received) == "Echo: one "
    assert caught.value.message == "Overloaded"


def test_anthropic_slow_first_byte_beyond_timeout_becomes_vendor_timeout(fake_vendor):
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


def test_anthropic_stream_stalling_midway_becomes_vendor_timeout(fake_vendor):
    fake_vendor.chunk_delay = 0.5
    handler = make_handler(fake_vendor, timeout=0.2)
    try:
        with pytest.raises(VendorTimeout):
            collect(handler.stream(ask("slow-stream")))
    finally:
        handler.close()


def test_anthropic_unreachable_vendor_becomes_unavailable(fake_vendor):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = make_handler(fake_vendor, base_url=f"http://127.0.0.1:{port}")
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


def test_anthropic_api_key_never_appears_in_errors_or_reprs(fake_vendor):
    secret = "sk-ant-SECRET-7777777777"
    credential = Credential(name="claude", kind="anthropic", api_key=secret,
                            base_url=fake_vendor.anthropic_base_url)
    handler = AnthropicHandler(credential)
    try:
        with pytest.raises(VendorAuthError) as caught:
            handler.complete(ask())
        # the fake echoes the presented key in its 401 message: it must come back scrubbed
        assert caught.value.message == "invalid x-api-key ***"
        assert_secret_absent(caught.value, secret)

        with pytest.raises(VendorAuthError) as streamed:
            collect(handler.stream(ask()))
        assert_secret_absent(streamed.value, secret)

        with pytest.raises(VendorAuthError) as listed:
            handler.models()
        assert listed.value.message == "invalid x-api-key ***"  # through the SDK's own error
        assert_secret_absent(listed.value, secret)

        assert secret not in repr(credential)
        assert secret not in repr(handler)
    finally:
        handler.close()


def test_anthropic_errors_are_vendor_errors_never_sdk_exceptions(handler):
    for model in ("error-400", "error-429", "error-529", "cut-stream", "stream-error"):
        with pytest.raises(VendorError) as caught:
            collect(handler.stream(ask(model)))
        assert type(caught.value).__module__ == "app.vendors.errors"


def test_anthropic_messages_carry_the_sdk_clients_auth_version_and_platform_headers(
        handler, fake_vendor):
    """Messages calls skip the SDK's per-call ``post()`` but must look as the SDK sends them."""
    chat_calls, models_call = chat_calls_and_sdk_headers(handler, fake_vendor, ask())
    for sent in chat_calls:
        assert sent.path == "/v1/messages"
        for name in ("anthropic-version", "user-agent", "x-stainless-package-version"):
            assert sent.headers[name] == models_call[name]
        auth = {k: v for k, v in models_call.items() if k in ("x-api-key", "authorization")}
        assert auth and all(sent.headers[k] == v for k, v in auth.items())
