"""POST /v1/responses and GET / DELETE /v1/responses/{id} through the real OpenAI SDK over
HTTP, translated to either vendor kind of the fake upstream."""

from __future__ import annotations

import json

import openai
import pytest

LOOKUP = {"type": "function", "name": "lookup", "description": "Look something up",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}


def test_plain_response_parses_with_the_sdk_and_output_text_works(openai_client, fake_vendor):
    raw = openai_client.responses.with_raw_response.create(model="openai/fake-chat",
                                                           input="hello there")
    response = raw.parse()
    assert response.id.startswith("resp_") and response.object == "response"
    assert response.status == "completed" and response.model == "openai/fake-chat"
    assert response.output_text == "Echo: hello there"
    message = response.output[0]
    assert (message.type, message.role, message.status) == ("message", "assistant", "completed")
    assert message.id.startswith("msg_") and message.content[0].annotations == []
    assert (response.usage.input_tokens, response.usage.output_tokens,
            response.usage.total_tokens) == (2, 3, 5)
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.usage.output_tokens_details.reasoning_tokens == 0
    assert response.store is True and response.tool_choice == "auto"
    assert raw.headers["x-parlor-route"] == "openai/fake-chat"
    assert "x-parlor-dropped" not in raw.headers
    assert fake_vendor.last_request.body["messages"] == [
        {"role": "user", "content": "hello there"}]


def test_instructions_items_and_max_output_tokens_reach_an_anthropic_model(openai_client,
                                                                           fake_vendor):
    response = openai_client.responses.create(
        model="anthropic/fake-chat", instructions="Be brief.", max_output_tokens=2,
        input=[{"role": "developer", "content": "Answer in English."},
               {"type": "message", "role": "user",
                "content": [{"type": "input_text", "text": "one two three"}]}])
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete"
    assert response.output_text == "Echo: one "
    assert response.instructions == "Be brief."
    sent = fake_vendor.last_request
    assert sent.path == "/v1/messages" and sent.body["max_tokens"] == 2
    assert "Be brief." in json.dumps(sent.body["system"])
    assert "Answer in English." in json.dumps(sent.body["system"])
    assert sent.body["messages"][-1]["role"] == "user"


@pytest.mark.parametrize("model", ["openai/tool-call", "anthropic/tool-call"])
def test_function_call_item_then_its_output_reaches_the_vendor_as_a_tool_result(
        openai_client, fake_vendor, model):
    question = [{"role": "user", "content": "weather in Paris"}]
    first = openai_client.responses.create(model=model, input=question, tools=[LOOKUP],
                                           store=False)
    call = next(item for item in first.output if item.type == "function_call")
    assert call.name == "lookup" and call.status == "completed" and call.id.startswith("fc_")
    assert json.loads(call.arguments) == {"query": "weather in Paris"}
    followup = question + [item.model_dump(exclude_none=True) for item in first.output] + [
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
    second = openai_client.responses.create(model=model, input=followup, tools=[LOOKUP])
    assert second.output_text == "Tool said: sunny"
    sent = json.dumps(fake_vendor.last_request.body["messages"])
    assert call.call_id in sent and "sunny" in sent
    if model.startswith("anthropic"):
        assert '"tool_result"' in sent and '"tool_use"' in sent
    else:
        assert '"role": "tool"' in sent and '"tool_calls"' in sent


def test_namespace_tools_are_flattened_for_the_vendor_and_named_back(openai_client,
                                                                     fake_vendor):
    crm = {"type": "namespace", "name": "crm", "description": "Customer records",
           "tools": [LOOKUP]}
    response = openai_client.responses.create(model="openai/tool-call", input="find Ada",
                                              tools=[crm])
    assert [t["function"]["name"] for t in fake_vendor.last_request.body["tools"]] == [
        "crm__lookup"]
    call = response.output[0]
    assert (call.type, call.name, call.namespace) == ("function_call", "lookup", "crm")
    second = openai_client.responses.create(
        model="openai/tool-call", previous_response_id=response.id, tools=[crm],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "found"}])
    assert second.output_text == "Tool said: found"
    replayed = fake_vendor.last_request.body["messages"][1]["tool_calls"][0]
    assert replayed["function"]["name"] == "crm__lookup"


def test_tool_choice_and_parallel_tool_calls_are_translated(openai_client, fake_vendor):
    openai_client.responses.create(model="openai/fake-chat", input="hi", tools=[LOOKUP],
                                   tool_choice={"type": "function", "name": "lookup"},
                                   parallel_tool_calls=False)
    sent = fake_vendor.last_request.body
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert sent["tools"][0]["function"]["parameters"] == LOOKUP["parameters"]


def test_previous_response_id_replays_the_stored_conversation(openai_client, fake_vendor):
    first = openai_client.responses.create(model="openai/fake-chat", input="first question")
    second = openai_client.responses.create(model="anthropic/fake-chat", input="second one",
                                            previous_response_id=first.id,
                                            instructions="Be kind.")
    assert second.previous_response_id == first.id
    assert second.output_text == "Echo: second one"
    assert _turns(fake_vendor.last_request.body["messages"]) == [
        ("user", "first question"), ("assistant", "Echo: first question"),
        ("user", "second one")]
    third = openai_client.responses.create(model="openai/fake-chat", input="third",
                                           previous_response_id=second.id)
    contents = [text for _, text in _turns(fake_vendor.last_request.body["messages"])]
    assert contents == ["first question", "Echo: first question", "second one",
                        "Echo: second one", "third"]  # instructions are not carried over
    assert third.output_text == "Echo: third"


def _turns(messages: list[dict]) -> list[tuple[str, str]]:
    """(role, text) of each message, in either vendor's format."""
    def text(content) -> str:
        if isinstance(content, str):
            return content
        return "".join(block.get("text", "") for block in content)
    return [(m["role"], text(m["content"])) for m in messages]


def test_stored_response_is_read_back_then_deleted(openai_client):
    created = openai_client.responses.create(model="openai/fake-chat", input="keep me")
    fetched = openai_client.responses.retrieve(created.id)
    assert fetched.model_dump() == created.model_dump()
    raw = openai_client.responses.with_raw_response.delete(created.id)
    assert raw.http_response.json() == {"id": created.id, "object": "response",
                                        "deleted": True}
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.delete(created.id)


def test_store_false_keeps_nothing(openai_client):
    created = openai_client.responses.create(model="openai/fake-chat", input="forget me",
                                             store=False)
    assert created.store is False
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)


def test_another_users_response_is_not_found_in_openai_shape(openai_client, live_server,
                                                             make_key):
    mine = openai_client.responses.create(model="openai/fake-chat", input="private")
    with openai.OpenAI(base_url=live_server + "/v1", api_key=make_key("other@example.com"),
                       max_retries=0) as other:
        for attempt in (lambda: other.responses.retrieve(mine.id),
                        lambda: other.responses.delete(mine.id),
                        lambda: other.responses.create(model="openai/fake-chat", input="hi",
                                                       previous_response_id=mine.id)):
            with pytest.raises(openai.NotFoundError) as caught:
                attempt()
            error = caught.value.response.json()["error"]
            assert error["type"] == "invalid_request_error"
            assert error["message"] == f"Response with id '{mine.id}' not found."
    assert openai_client.responses.retrieve(mine.id).output_text == "Echo: private"


@pytest.mark.parametrize(("body", "expected"), [
    ({"input": "hi"}, "model"),
    ({"model": "openai/fake-chat", "input": [{"type": "computer_call_output"}]},
     "unsupported input item type 'computer_call_output'"),
    ({"model": "openai/fake-chat", "input": [{"type": "function_call", "name": "f"}]},
     "needs 'call_id'"),
    ({"model": "openai/fake-chat", "input": [{"role": "user", "content": [{"type": "x"}]}]},
     "unknown content part type 'x'"),
    ({"model": "openai/fake-chat", "input": "hi", "background": True},
     "background mode is not supported"),
    ({"model": "openai/fake-chat", "input": "hi", "tool_choice": {"type": "web_search"}},
     "tool_choice 'web_search' names a tool Parlor cannot run"),
    ({"model": "openai/fake-chat", "input": []}, "give at least one message"),
    ({"model": "openai/fake-chat", "input": "hi", "max_output_tokens": 0}, "max_output_tokens"),
    ({"model": "openai/fake-chat", "input": [
        {"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch"}]},
     "a custom_tool_call item needs 'input'"),
    ({"model": "openai/fake-chat", "input": [{"type": "custom_tool_call_output",
                                              "call_id": "c1"}]},
     "a custom_tool_call_output item needs 'output'"),
    ({"model": "openai/fake-chat", "input": [
        {"type": "reasoning", "summary": [{"type": "picture"}]},
        {"role": "user", "content": "hi"}]},
     "unknown content part type 'picture'"),
    ({"model": "openai/fake-chat", "input": "hi", "tools": [{"type": "custom"}]},
     "A custom tool needs 'name'"),
])
def test_bad_input_gets_a_400_in_openai_shape(openai_client, body, expected):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.post("/responses", cast_to=object, body=body)
    error = caught.value.response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert expected in error["message"]


def test_unknown_model_is_a_404_and_a_bad_key_a_401(openai_client, live_server):
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.responses.create(model="nobody/nothing", input="hi")
    assert caught.value.response.json()["error"]["code"] == "model_not_found"
    with openai.OpenAI(base_url=live_server + "/v1", api_key="wrong", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError):
            bad.responses.create(model="openai/fake-chat", input="hi")


def test_hints_hosted_tools_and_unknown_fields_are_dropped_and_named(openai_client,
                                                                     fake_vendor):
    raw = openai_client.responses.with_raw_response.create(
        model="openai/fake-chat", input=[
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"role": "user", "content": "hello"}],
        metadata={"team": "a"}, service_tier="auto", include=["message.output_text.logprobs"],
        prompt_cache_key="k", truncation="auto", text={"verbosity": "low"},
        tools=[LOOKUP, {"type": "web_search"}, {"type": "custom", "name": "apply_patch"}],
        extra_body={"fancy_hint": 1})
    dropped = raw.headers["x-parlor-dropped"].split(",")
    assert set(dropped) == {"metadata", "service_tier", "include", "prompt_cache_key",
                            "truncation", "fancy_hint", "web_search", "text.verbosity",
                            "input.reasoning"}
    sent = fake_vendor.last_request.body
    # A custom tool is translated (tests/api/test_responses_custom_tools.py), not dropped.
    assert [t["function"]["name"] for t in sent["tools"]] == ["lookup", "apply_patch"]
    assert not {"metadata", "service_tier", "include", "fancy_hint"} & set(sent)
    assert sent["messages"] == [{"role": "user", "content": "hello"}]
    assert raw.parse().metadata == {"team": "a"}


def test_double_v1_path_answers_too(openai_client, live_server, member_key):
    with openai.OpenAI(base_url=live_server + "/v1/v1", api_key=member_key,
                       max_retries=0) as doubled:
        assert doubled.responses.create(model="openai/fake-chat",
                                        input="twice").output_text == "Echo: twice"


def test_each_response_writes_one_usage_record(openai_client, usage_records, key_row,
                                               member_key):
    openai_client.responses.create(model="openai/fake-chat", input="count me")
    openai_client.responses.create(model="anthropic/fake-chat", input="count me too")
    key = key_row(member_key)
    records = usage_records()
    assert [(r["model"], r["input_tokens"], r["output_tokens"], r["status"]) for r in records] == [
        ("openai/fake-chat", 2, 3, "complete"), ("anthropic/fake-chat", 3, 4, "complete")]
    assert all(r["api_key_id"] == key.id and r["source"] == "api" for r in records)


def test_a_deleted_turn_leaves_the_chain_from_the_turn_after_it(openai_client, fake_vendor):
    first = openai_client.responses.create(model="openai/fake-chat", input="one")
    second = openai_client.responses.create(model="openai/fake-chat", input="two",
                                            previous_response_id=first.id)
    third = openai_client.responses.create(model="openai/fake-chat", input="three",
                                           previous_response_id=second.id)
    openai_client.responses.delete(second.id)
    openai_client.responses.create(model="openai/fake-chat", input="four",
                                   previous_response_id=third.id)
    assert [text for _, text in _turns(fake_vendor.last_request.body["messages"])] == [
        "three", "Echo: three", "four"]
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.create(model="openai/fake-chat", input="five",
                                       previous_response_id=second.id)


@pytest.mark.parametrize("stream", [False, True])
def test_the_offline_mock_vendor_answers_too(openai_client, stream):
    if stream:
        with openai_client.responses.stream(model="mock/echo", input="mock me") as events:
            final = events.get_final_response()
    else:
        final = openai_client.responses.create(model="mock/echo", input="mock me")
    assert final.output_text == "mock me" and final.status == "completed"


def test_retrieving_a_stored_response_as_a_stream_is_refused_clearly(openai_client):
    created = openai_client.responses.create(model="openai/fake-chat", input="hi")
    with pytest.raises(openai.BadRequestError) as caught:
        list(openai_client.responses.retrieve(created.id, stream=True))
    assert caught.value.response.json()["error"]["param"] == "stream"
