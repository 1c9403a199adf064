"""How the native Responses path reads a vendor's event stream (app/vendors/responses_api.py):
only lifecycle events are parsed, others are kept as sent; errors and bad lifecycle events
are told apart."""

from __future__ import annotations

import json

import pytest

from app.vendors.responses_api import ResponsesStreamError, events, usage_of
from app.vendors.types import Usage

CREATED = {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}}


def _lines(*frames: str) -> list[str]:
    return "".join(frames).split("\n")


def test_a_delta_event_is_kept_byte_for_byte_and_not_parsed():
    odd = '{"type":"response.output_text.delta", "delta":"hi",  "extra":[1, 2]}'
    [event] = events(_lines(f"event: response.output_text.delta\ndata: {odd}\n\n"))
    assert (event.type, event.data, event.response) == ("response.output_text.delta", odd, None)
    assert event.encode() == f"event: response.output_text.delta\ndata: {odd}\n\n"


def test_an_event_without_its_name_line_is_named_by_its_type():
    [event] = events(_lines(f"data: {json.dumps(CREATED)}\n\n"))
    assert event.type == "response.created" and event.response["id"] == "resp_1"


def test_a_data_field_split_over_lines_is_one_event():
    [event] = events(_lines('event: response.created\ndata: {"type": "response.created",\n'
                            'data:  "response": {"id": "resp_2"}}\n\n'))
    assert event.response == {"id": "resp_2"}


def test_an_error_event_raises_with_its_message():
    with pytest.raises(ResponsesStreamError, match="quota gone"):
        list(events(_lines('event: error\ndata: {"type":"error","message":"quota gone"}\n\n')))


def test_a_lifecycle_event_without_a_response_object_is_malformed():
    with pytest.raises(ValueError):
        list(events(_lines('event: response.completed\ndata: {"response": "nope"}\n\n')))


def test_usage_counts_cached_and_reasoning_tokens():
    response = {"usage": {"input_tokens": 10, "output_tokens": 7,
                          "input_tokens_details": {"cached_tokens": 4},
                          "output_tokens_details": {"reasoning_tokens": 5}}}
    assert usage_of(response) == Usage(input_tokens=10, output_tokens=7, cache_read_tokens=4,
                                       reasoning_tokens=5)
    assert usage_of({"usage": None}) is None
