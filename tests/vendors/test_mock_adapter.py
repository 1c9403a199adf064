"""The offline mock vendor: deterministic replies, word-by-word streaming and usage."""

from __future__ import annotations

import time

import pytest

from app.vendors.catalog import Catalog
from app.vendors.errors import VendorModelNotFound
from app.vendors.manager import VendorManager
from app.vendors.mock import LOREM, MockHandler
from app.vendors.registry import HANDLERS, HandlerPool
from app.vendors.types import ChatMessage, ChatRequest, Credential, Usage

MOCK = Credential(name="mock", kind="mock")


def ask(model: str = "echo", *texts: str, **fields) -> ChatRequest:
    messages = tuple(ChatMessage("user", t) for t in texts or ("hello mock world",))
    return ChatRequest(model=model, messages=messages, **fields)


@pytest.fixture
def mock() -> MockHandler:
    return MockHandler(MOCK)


def test_mock_lists_echo_and_lorem(mock):
    assert mock.models() == ["echo", "lorem"]


def test_mock_echo_repeats_the_last_user_message(mock):
    request = ChatRequest(model="echo", messages=(
        ChatMessage("system", "be nice"), ChatMessage("user", "first"),
        ChatMessage("assistant", "ok"), ChatMessage("user", "second one"),
        ChatMessage("assistant", "trailing")))

    result = mock.complete(request)

    assert result.text == "second one"
    assert result.finish_reason == "stop"
    assert result.model == "echo"


def test_mock_echo_of_an_empty_conversation_says_so(mock):
    assert mock.complete(ChatRequest(model="echo", messages=())).text == "(empty message)"


def test_mock_lorem_answers_with_sample_markdown(mock):
    result = mock.complete(ask("lorem"))

    assert result.text == LOREM
    assert "```python" in result.text
    assert result.finish_reason == "stop"


def test_mock_unknown_model_is_model_not_found(mock):
    with pytest.raises(VendorModelNotFound):
        mock.complete(ask("gpt-nothing"))
    with pytest.raises(VendorModelNotFound):
        list(mock.stream(ask("gpt-nothing")))


def test_mock_usage_counts_words_in_and_out(mock):
    result = mock.complete(ask("echo", "one two", "three four five"))

    assert result.usage == Usage(input_tokens=5, output_tokens=3)
    assert result.usage.total_tokens == 8


def test_mock_stream_yields_word_by_word_then_finish_and_usage(mock):
    deltas = list(mock.stream(ask("echo", "the quick brown fox")))

    words = [d.text for d in deltas[:-1]]
    assert words == ["the ", "quick ", "brown ", "fox"]
    assert all(d.finish_reason is None and d.usage is None for d in deltas[:-1])
    assert deltas[-1].text == ""
    assert deltas[-1].finish_reason == "stop"
    assert deltas[-1].usage == Usage(input_tokens=4, output_tokens=4)


def test_mock_stream_of_lorem_rebuilds_the_text_exactly(mock):
    deltas = list(mock.stream(ask("lorem")))

    assert "".join(d.text for d in deltas) == LOREM
    assert deltas[-1].usage.output_tokens == len(LOREM.split())


def test_mock_max_tokens_cuts_the_reply_and_finishes_with_length(mock):
    request = ask("echo", "one two three four five", max_tokens=2)

    result = mock.complete(request)
    assert result.text == "one two "
    assert result.finish_reason == "length"
    assert result.usage.output_tokens == 2

    deltas = list(mock.stream(request))
    assert "".join(d.text for d in deltas) == "one two "
    assert deltas[-1].finish_reason == "length"
    assert deltas[-1].usage.output_tokens == 2


def test_mock_max_tokens_not_reached_finishes_with_stop(mock):
    assert mock.complete(ask("echo", "one two", max_tokens=2)).finish_reason == "stop"


def test_mock_delay_option_paces_the_stream():
    handler = MockHandler(Credential(name="mock", kind="mock", options=(("delay_ms", 20),)))

    started = time.monotonic()
    deltas = list(handler.stream(ask("echo", "a b c d")))

    assert len(deltas) == 5
    assert time.monotonic() - started >= 4 * 0.02


def test_mock_is_registered_and_routable_through_the_manager():
    assert HANDLERS["mock"] is MockHandler
    manager = VendorManager(Catalog(credentials={"mock": MOCK}), pool=HandlerPool())

    result, route = manager.complete("mock/echo", ask("ignored", "via the manager"), role="user")
    assert result.text == "via the manager"
    assert route.label == "mock/echo"

    used, deltas = manager.open_stream("mock/lorem", ask("ignored"), role=None)
    assert "".join(d.text for d in deltas) == LOREM
    assert [m.id for m in manager.models(None)] == ["mock/echo", "mock/lorem"]
