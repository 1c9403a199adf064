"""GET /v1/responses/{id}/input_items through the real OpenAI SDK's
``client.responses.input_items.list``: a stored response's own input items, newest first,
paged by cursor, owner-scoped like GET /v1/responses/{id}."""

from __future__ import annotations

import openai
import pytest

LOOKUP = {"type": "function", "name": "lookup", "description": "Look something up",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}


@pytest.fixture
def tool_turn(openai_client):
    """A stored response whose input held a message, a function call and its output."""
    return openai_client.responses.create(model="openai/fake-chat", tools=[LOOKUP], input=[
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "input_text", "text": "weather in Paris"}]},
        {"type": "function_call", "call_id": "call_1", "name": "lookup",
         "arguments": '{"query": "Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}])


def test_a_string_input_is_listed_as_one_user_message(openai_client):
    created = openai_client.responses.create(model="openai/fake-chat", input="hello there")
    page = openai_client.responses.input_items.list(created.id)
    [item] = page.data
    assert (item.type, item.role, item.status) == ("message", "user", "completed")
    assert item.id.startswith("msg_")
    assert [(part.type, part.text) for part in item.content] == [("input_text", "hello there")]
    assert page.has_more is False
    # The ids are stable: a cursor taken now works later.
    assert openai_client.responses.input_items.list(created.id).data[0].id == item.id


def test_items_come_newest_first_by_default_and_in_order_with_asc(openai_client, tool_turn):
    newest_first = openai_client.responses.input_items.list(tool_turn.id).data
    assert [i.type for i in newest_first] == [
        "function_call_output", "function_call", "message", "message"]
    call, output = newest_first[1], newest_first[0]
    assert (call.call_id, call.name, call.arguments) == ("call_1", "lookup",
                                                         '{"query": "Paris"}')
    assert (output.call_id, output.output) == ("call_1", "sunny")
    oldest_first = openai_client.responses.input_items.list(tool_turn.id, order="asc").data
    assert [i.id for i in oldest_first] == [i.id for i in reversed(newest_first)]
    assert oldest_first[0].role == "developer"
    assert oldest_first[0].content[0].text == "Be brief."


def test_pages_follow_the_after_cursor_through_every_item(openai_client, tool_turn):
    first = openai_client.responses.input_items.list(tool_turn.id, limit=3, order="asc")
    assert len(first.data) == 3 and first.has_more is True
    every = list(openai_client.responses.input_items.list(tool_turn.id, limit=1, order="asc"))
    assert [i.type for i in every] == [
        "message", "message", "function_call", "function_call_output"]
    last = openai_client.responses.input_items.list(tool_turn.id, after=every[2].id,
                                                    order="asc")
    assert [i.id for i in last.data] == [every[3].id] and last.has_more is False


def test_bad_queries_are_a_400_in_openai_shape(openai_client, tool_turn):
    for query in ({"limit": 0}, {"limit": 101}, {"order": "sideways"},
                  {"after": "msg_unknown"}):
        with pytest.raises(openai.BadRequestError) as caught:
            openai_client.responses.input_items.list(tool_turn.id, **query)
        assert caught.value.response.json()["error"]["param"] == next(iter(query))


def test_another_users_or_an_unknown_response_is_not_found(openai_client, live_server,
                                                          make_key, tool_turn):
    with openai.OpenAI(base_url=live_server + "/v1", api_key=make_key("other@example.com"),
                       max_retries=0) as other:
        with pytest.raises(openai.NotFoundError) as caught:
            other.responses.input_items.list(tool_turn.id)
    assert caught.value.response.json()["error"]["message"] == (
        f"Response with id '{tool_turn.id}' not found.")
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.input_items.list("resp_unknown")
    unstored = openai_client.responses.create(model="openai/fake-chat", input="x", store=False)
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.input_items.list(unstored.id)
