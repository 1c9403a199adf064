"""Custom (freeform) tools in the Responses API, as Codex CLI sends ``apply_patch``, through
the real OpenAI SDK against the fake vendor: translated for chat vendors into a function of
one string argument (``input``, the grammar in its description), the model's call mapped
back to a ``custom_tool_call`` item, and ``custom_tool_call`` / ``custom_tool_call_output``
items taken on the next turn."""

from __future__ import annotations

import json

import pytest

GRAMMAR = "start: begin_patch hunk+ end_patch\nbegin_patch: \"*** Begin Patch\" LF"
APPLY_PATCH = {"type": "custom", "name": "apply_patch",
               "description": "Use the `apply_patch` tool to edit files.",
               "format": {"type": "grammar", "syntax": "lark", "definition": GRAMMAR}}
PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch"


def _kinds(events) -> list[str]:
    kinds: list[str] = []
    for event in events:
        if not (kinds and kinds[-1] == event.type and event.type.endswith(".delta")):
            kinds.append(event.type)
    return kinds


def _function(tool: dict, anthropic: bool) -> tuple[str, str, dict]:
    if anthropic:
        return tool["name"], tool["description"], tool["input_schema"]
    return (tool["function"]["name"], tool["function"]["description"],
            tool["function"]["parameters"])


@pytest.mark.parametrize("model", ["openai/tool-call", "anthropic/tool-call"])
def test_a_custom_tool_is_a_one_string_function_and_its_call_a_custom_tool_call(
        openai_client, fake_vendor, model):
    response = openai_client.responses.create(model=model, input=PATCH, tools=[APPLY_PATCH])
    name, description, schema = _function(fake_vendor.last_request.body["tools"][0],
                                          model.startswith("anthropic"))
    assert name == "apply_patch" and description == APPLY_PATCH["description"]
    assert schema["required"] == ["input"] and schema["properties"]["input"]["type"] == "string"
    assert GRAMMAR in schema["properties"]["input"]["description"]  # the model sees the format
    [call] = [item for item in response.output if item.type != "message"]
    assert call.type == "custom_tool_call" and call.id.startswith("ctc_")
    assert (call.name, call.input) == ("apply_patch", PATCH)  # the raw text, not JSON
    assert "x-parlor-dropped" not in openai_client.responses.with_raw_response.create(
        model=model, input=PATCH, tools=[APPLY_PATCH]).headers


@pytest.mark.parametrize("model", ["openai/tool-call", "anthropic/tool-call"])
def test_the_call_and_its_output_come_back_as_a_tool_call_and_result(openai_client,
                                                                     fake_vendor, model):
    first = openai_client.responses.create(model=model, input=PATCH, tools=[APPLY_PATCH],
                                           store=False)
    call = next(item for item in first.output if item.type == "custom_tool_call")
    second = openai_client.responses.create(model=model, tools=[APPLY_PATCH], input=[
        {"role": "user", "content": PATCH},
        {"type": "custom_tool_call", "call_id": call.call_id, "name": "apply_patch",
         "input": call.input},
        {"type": "custom_tool_call_output", "call_id": call.call_id,
         "output": "Success. Updated a.txt"}])
    assert second.output_text == "Tool said: Success. Updated a.txt"
    messages = fake_vendor.last_request.body["messages"]
    if model.startswith("anthropic"):
        tool_use = messages[1]["content"][-1]
        assert tool_use == {"type": "tool_use", "id": call.call_id, "name": "apply_patch",
                            "input": {"input": PATCH}}
        assert messages[2]["content"][0]["tool_use_id"] == call.call_id
    else:
        sent = messages[1]["tool_calls"][0]
        assert (sent["id"], sent["function"]["name"]) == (call.call_id, "apply_patch")
        assert json.loads(sent["function"]["arguments"]) == {"input": PATCH}
        assert messages[2] == {"role": "tool", "tool_call_id": call.call_id,
                               "content": "Success. Updated a.txt"}


def test_a_custom_tool_call_streams_its_input_events(openai_client):
    events = list(openai_client.responses.create(model="openai/tool-call", input=PATCH,
                                                 tools=[APPLY_PATCH], stream=True))
    assert _kinds(events) == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done",
        "response.output_item.done", "response.completed"]
    added = events[2].item
    assert (added.type, added.name, added.input) == ("custom_tool_call", "apply_patch", "")
    assert events[3].delta == PATCH and events[4].input == PATCH
    assert events[5].item.input == PATCH and events[5].item.call_id == added.call_id
    [call] = events[-1].response.output
    assert (call.type, call.input) == ("custom_tool_call", PATCH)


def test_tool_choice_can_name_a_custom_tool(openai_client, fake_vendor):
    openai_client.responses.create(model="openai/tool-call", input=PATCH, tools=[APPLY_PATCH],
                                   tool_choice={"type": "custom", "name": "apply_patch"})
    assert fake_vendor.last_request.body["tool_choice"] == {
        "type": "function", "function": {"name": "apply_patch"}}


def test_a_plain_text_custom_tool_takes_any_input(openai_client, fake_vendor):
    note = {"type": "custom", "name": "note", "format": {"type": "text"}}
    response = openai_client.responses.create(model="openai/tool-call", input="remember this",
                                              tools=[note])
    assert response.output[0].input == "remember this"
    parameters = fake_vendor.last_request.body["tools"][0]["function"]["parameters"]
    assert "grammar" not in parameters["properties"]["input"]["description"]


def test_a_stored_custom_call_is_continued_through_previous_response_id(openai_client,
                                                                       fake_vendor):
    first = openai_client.responses.create(model="anthropic/tool-call", input=PATCH,
                                           tools=[APPLY_PATCH])
    call = next(item for item in first.output if item.type == "custom_tool_call")
    second = openai_client.responses.create(
        model="anthropic/tool-call", tools=[APPLY_PATCH], previous_response_id=first.id,
        input=[{"type": "custom_tool_call_output", "call_id": call.call_id, "output": "done"}])
    assert second.output_text == "Tool said: done"
    tool_use = fake_vendor.last_request.body["messages"][1]["content"][-1]
    assert (tool_use["type"], tool_use["input"]) == ("tool_use", {"input": PATCH})
