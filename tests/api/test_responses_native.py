"""POST /v1/responses to a vendor kind that speaks the Responses API (``openai``): sent as the
client sent it and relayed as the vendor answered, through the real OpenAI SDK over real HTTP
against the fake vendor's ``/v1/responses``; Parlor still owns ``store`` and
``previous_response_id``."""

from __future__ import annotations

import json

import openai
import pytest
import requests

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services import keepalive
from app.services.encryption import secret_box
from app.services.vendors import invalidate_catalog
from app.vendors import RetryPolicy
from app.vendors.transport import POOL_SHARDS
from tests.conftest import eventually

LOOKUP = {"type": "function", "name": "lookup", "description": "Look something up",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}
TEXT_ITEM = ["response.output_item.added", "response.content_part.added",
             "response.output_text.delta", "response.output_text.done",
             "response.content_part.done", "response.output_item.done"]


@pytest.fixture(autouse=True)
def native_routes(app, fake_vendor):
    """``gpt-native`` (and ``gpt-native-<upstream>``) on a vendor of kind ``openai`` at the
    fake; the environment's ``openai/…`` stays OpenAI-compatible (translated)."""
    with app.app_context():
        credential = VendorCredential(name="official", kind="openai",
                                      base_url=fake_vendor.openai_base_url,
                                      encrypted_secret=secret_box().encrypt(fake_vendor.api_key))
        for upstream in ("fake-chat", "tool-call", "error-400", "error-429", "stream-error",
                         "cut-stream", "slow-stream"):
            name = "gpt-native" if upstream == "fake-chat" else f"gpt-native-{upstream}"
            db.session.add(ModelRoute(public_name=name, credential=credential,
                                      upstream_model=upstream, input_price=1, output_price=2))
        db.session.commit()
        invalidate_catalog()


def _responses_requests(fake_vendor) -> list:
    return [r for r in fake_vendor.requests if r.path == "/v1/responses"]


def test_plain_response_goes_upstream_as_sent_and_comes_back_as_answered(openai_client,
                                                                         fake_vendor):
    raw = openai_client.responses.with_raw_response.create(
        model="gpt-native", input="hello there", include=["message.output_text.logprobs"],
        truncation="auto", tools=[{"type": "web_search"}], metadata={"team": "a"})
    response = raw.parse()
    assert response.output_text == "Echo: hello there"
    assert response.output[0].type == "web_search_call"  # a hosted tool's item, as run upstream
    assert response.model == "gpt-native" and response.store is True
    assert (response.usage.input_tokens, response.usage.output_tokens) == (2, 3)
    assert raw.headers["x-parlor-route"] == "official/fake-chat"
    assert "x-parlor-dropped" not in raw.headers
    [sent] = _responses_requests(fake_vendor)
    assert fake_vendor.requests[-1].path == "/v1/responses"  # no chat completion at all
    assert sent.body == {"model": "fake-chat", "input": "hello there",
                         "include": ["message.output_text.logprobs"], "truncation": "auto",
                         "tools": [{"type": "web_search"}], "metadata": {"team": "a"},
                         "store": False}


def test_native_response_is_stored_by_parlor_and_deleted(openai_client):
    created = openai_client.responses.create(model="gpt-native", input="keep me")
    kept = openai_client.responses.retrieve(created.id)
    assert kept.id == created.id and kept.output_text == "Echo: keep me"
    items = openai_client.responses.input_items.list(created.id)
    assert [i.content[0].text if not isinstance(i.content, str) else i.content
            for i in items.data] == ["keep me"]
    openai_client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)


def test_store_false_keeps_nothing(openai_client):
    created = openai_client.responses.create(model="gpt-native", input="forget me", store=False)
    assert created.store is False
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)


def test_previous_response_id_sends_the_vendor_the_whole_conversation(openai_client,
                                                                      fake_vendor):
    first = openai_client.responses.create(model="gpt-native", input="my name is Ada")
    second = openai_client.responses.create(model="gpt-native", input="what is my name",
                                            previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert second.output_text == "Echo: what is my name"
    sent = _responses_requests(fake_vendor)[-1].body
    assert "previous_response_id" not in sent and sent["store"] is False
    assert sent["input"] == [
        {"type": "message", "role": "user", "content": "my name is Ada"},
        first.output[0].model_dump(exclude_none=True, mode="json") | {"content": [
            first.output[0].content[0].model_dump(exclude_none=True, mode="json")]},
        {"type": "message", "role": "user", "content": "what is my name"}]


def test_unknown_previous_response_id_is_a_404_before_the_vendor(openai_client, fake_vendor):
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.create(model="gpt-native", input="hi",
                                       previous_response_id="resp_nope")
    assert _responses_requests(fake_vendor) == []


def test_streamed_events_are_relayed_in_the_real_sequence(openai_client, usage_records):
    events = list(openai_client.responses.create(model="gpt-native", stream=True,
                                                 input="hello streaming world"))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [k for i, k in enumerate(kinds[2:-1]) if k != kinds[2:-1][i - 1] or i == 0] == \
        TEXT_ITEM
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert all(e.response.model == "gpt-native" for e in events if hasattr(e, "response"))
    done = events[-1].response
    assert done.output_text == "Echo: hello streaming world" and done.store is True
    assert (done.usage.input_tokens, done.usage.output_tokens) == (3, 4)
    record = usage_records()[-1]
    assert (record["model"], record["input_tokens"], record["output_tokens"],
            record["status"]) == ("gpt-native", 3, 4, "complete")
    assert openai_client.responses.retrieve(done.id).output_text == done.output_text


def test_hosted_tool_events_reach_the_client_unchanged(openai_client):
    events = list(openai_client.responses.create(model="gpt-native", stream=True, input="hi",
                                                 tools=[{"type": "web_search"}]))
    kinds = [e.type for e in events]
    assert ["response.web_search_call.in_progress", "response.web_search_call.searching",
            "response.web_search_call.completed"] == [k for k in kinds if "web_search" in k]


@pytest.mark.parametrize("stream", [False, True])
def test_function_call_round_trip(openai_client, fake_vendor, stream):
    question = [{"role": "user", "content": "weather in Paris"}]
    if stream:
        with openai_client.responses.stream(model="gpt-native-tool-call", input=question,
                                            tools=[LOOKUP]) as events:
            first = events.get_final_response()
    else:
        first = openai_client.responses.create(model="gpt-native-tool-call", input=question,
                                               tools=[LOOKUP])
    [call] = first.output
    assert (call.type, call.name) == ("function_call", "lookup")
    assert json.loads(call.arguments) == {"query": "weather in Paris"}
    second = openai_client.responses.create(
        model="gpt-native-tool-call", previous_response_id=first.id, tools=[LOOKUP],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}])
    assert second.output_text == "Tool said: sunny"
    sent = _responses_requests(fake_vendor)[-1].body["input"]
    assert [item.get("type", "message") for item in sent] == ["message", "function_call",
                                                   "function_call_output"]
    assert sent[1]["call_id"] == call.call_id and sent[2]["output"] == "sunny"


def test_cached_and_reasoning_tokens_reach_the_ledger(openai_client, app):
    from sqlalchemy import select

    from app.models import UsageRecord

    response = openai_client.responses.create(model="gpt-native", input="one two three four",
                                              prompt_cache_key="two words")
    assert response.usage.input_tokens_details.cached_tokens == 2
    with app.app_context():
        row = db.session.scalars(select(UsageRecord).order_by(UsageRecord.id.desc())).first()
        assert (row.input_tokens, row.output_tokens, row.status) == (4, 5, "complete")
        assert row.cache_read_tokens == 2 and row.route == "official/fake-chat"


@pytest.mark.parametrize(("model", "error", "status"), [
    ("gpt-native-error-400", openai.BadRequestError, 400),
    ("gpt-native-error-429", openai.RateLimitError, 429)])
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_error_before_the_first_byte_is_an_http_error_in_openai_shape(
        openai_client, usage_records, model, error, status, stream):
    with pytest.raises(error) as caught:
        result = openai_client.responses.create(model=model, input="hi", stream=stream)
        list(result) if stream else None
    body = caught.value.response.json()
    assert caught.value.status_code == status and body["error"]["message"]
    assert usage_records()[-1]["status"] == "error"


@pytest.mark.parametrize("model", ["gpt-native-stream-error", "gpt-native-cut-stream"])
def test_upstream_failure_after_the_first_byte_ends_in_response_failed(openai_client,
                                                                       usage_records, model):
    events = list(openai_client.responses.create(model=model, stream=True,
                                                 input="this will break"))
    assert events[0].type == "response.created"
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error.code == "server_error" and failed.response.error.message
    assert failed.response.id == events[0].response.id
    assert "response.output_text.delta" in [e.type for e in events]
    row = usage_records()[-1]  # no usage came: estimated from the input and what was relayed
    assert row["status"] == "error" and row["input_tokens"] > 0 and row["output_tokens"] > 0
    with pytest.raises(openai.NotFoundError):  # only finished responses are kept
        openai_client.responses.retrieve(failed.response.id)


@pytest.mark.parametrize("model", ["openai/fake-chat", "anthropic/fake-chat", "mock/echo"])
def test_other_kinds_still_get_the_translated_call(openai_client, fake_vendor, model):
    response = openai_client.responses.create(model=model, input="hello there")
    assert "hello there" in response.output_text
    assert _responses_requests(fake_vendor) == []


def _group(app, name: str, *routes: tuple[str, str]) -> None:
    """Routes ``name`` to each (vendor credential, upstream model) in order, one fallback
    group (the credentials: ``official`` above, or the environment's ``anthropic``)."""
    with app.app_context():
        credentials = {"official": db.session.query(VendorCredential).filter_by(
            name="official").one(), "anthropic": VendorCredential(name="anthropic",
                                                                  kind="anthropic")}
        for priority, (vendor, upstream) in enumerate(routes):
            db.session.add(ModelRoute(public_name=name if priority == 0 else f"{name}-{priority}",
                                      credential=credentials[vendor], upstream_model=upstream,
                                      fallback_group=name, priority=priority))
        db.session.commit()
        invalidate_catalog()


@pytest.fixture
def waits(app) -> list:
    """Two retries a route, their waits recorded instead of slept."""
    recorded: list = []
    manager = app.extensions["parlor.vendors"].manager
    manager.sleep, manager.policy = recorded.append, RetryPolicy(retries=2)
    return recorded


@pytest.mark.parametrize("stream", [False, True])
def test_a_failing_attempt_is_retried_then_falls_back_before_the_first_byte(
        app, openai_client, fake_vendor, waits, stream):
    _group(app, "gpt-group", ("official", "error-503"), ("official", "flaky-1-native"))
    if stream:
        with openai_client.responses.stream(model="gpt-group", input="hi") as events:
            answer = events.get_final_response()
    else:
        answer = openai_client.responses.create(model="gpt-group", input="hi")
    assert answer.output_text == "Echo: hi"
    upstreams = [r.body["model"] for r in _responses_requests(fake_vendor)]
    assert upstreams == ["error-503"] * 3 + ["flaky-1-native"] * 2  # retried, then fell back
    assert len(waits) == 3


def test_a_model_with_a_route_that_does_not_speak_responses_is_translated(app, openai_client,
                                                                          fake_vendor):
    _group(app, "gpt-mixed", ("official", "fake-chat"), ("anthropic", "fake-chat"))
    answer = openai_client.responses.create(model="gpt-mixed", input="hi")
    assert answer.output_text == "Echo: hi"
    assert _responses_requests(fake_vendor) == []
    assert fake_vendor.last_request.path == "/v1/chat/completions"


def test_items_only_the_vendor_knows_go_back_to_it_as_input(openai_client, fake_vendor):
    first = openai_client.responses.create(model="gpt-native", input="search this",
                                           tools=[{"type": "web_search"}], top_logprobs=2)
    search = first.output[0].model_dump(exclude_none=True, mode="json")
    second = openai_client.responses.create(
        model="gpt-native", input=[{"role": "user", "content": "search this"}, search,
                                   {"type": "item_reference", "id": "msg_elsewhere"},
                                   {"role": "user", "content": "and now"}])
    assert second.output_text == "Echo: and now"
    sent = _responses_requests(fake_vendor)[-1].body["input"]
    assert sent[1] == search and sent[2] == {"type": "item_reference", "id": "msg_elsewhere"}
    assert _responses_requests(fake_vendor)[0].body["top_logprobs"] == 2


@pytest.mark.parametrize(("field", "value"), [("background", True),
                                              ("conversation", "conv_1")])
def test_state_kept_at_the_vendor_is_still_refused(openai_client, fake_vendor, field, value):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="gpt-native", input="hi", extra_body={field: value})
    assert "not supported" in caught.value.response.json()["error"]["message"]
    assert _responses_requests(fake_vendor) == []


@pytest.mark.parametrize("stream", [False, True])
def test_the_vendor_key_never_reaches_the_client(app, openai_client, fake_vendor, stream):
    wrong = "sk-wrong-0123456789abcdef"  # the fake echoes a wrong key in its 401, as OpenAI does
    with app.app_context():
        credential = VendorCredential(name="leaky", kind="openai",
                                      base_url=fake_vendor.openai_base_url,
                                      encrypted_secret=secret_box().encrypt(wrong))
        db.session.add(ModelRoute(public_name="gpt-leaky", credential=credential,
                                  upstream_model="fake-chat"))
        db.session.commit()
        invalidate_catalog()
    with pytest.raises(openai.APIStatusError) as caught:
        result = openai_client.responses.create(model="gpt-leaky", input="hi", stream=stream)
        list(result) if stream else None
    assert _responses_requests(fake_vendor)[-1].headers["authorization"] == f"Bearer {wrong}"
    assert caught.value.response.json()["error"]["message"]
    assert wrong not in caught.value.response.text


def test_upstream_connections_are_pooled_again_after_finished_streams(openai_client,
                                                                     fake_vendor):
    for _ in range(3 * POOL_SHARDS):
        list(openai_client.responses.create(model="gpt-native", stream=True, input="hi"))
    # each body was read to its end: at most one connection per pool shard
    assert len({r.client_port for r in _responses_requests(fake_vendor)}) <= POOL_SHARDS


def test_a_client_gone_mid_stream_closes_the_upstream_and_files_a_stopped_call(
        live_server, member_key, fake_vendor, usage_rows, monkeypatch):
    monkeypatch.setattr(keepalive, "PING_SECONDS", 0.1)
    fake_vendor.chunk_delay = 1.0  # a long silence between two deltas: pings meanwhile
    response = requests.post(live_server + "/v1/responses", stream=True, timeout=10,
                             headers={"Authorization": f"Bearer {member_key}"},
                             json={"model": "gpt-native-slow-stream", "stream": True,
                                   "input": "go"})
    seen = []
    for line in response.iter_lines():
        seen.append(line)
        if line == b": ping" or len(seen) == 30:
            break
    response.close()

    assert seen[-1] == b": ping" and b"event: response.created" in seen
    assert fake_vendor.wait_for_disconnect("slow-stream", timeout=10)
    [row] = eventually(usage_rows)
    assert (row.status, row.model) == ("stopped", "gpt-native-slow-stream")


@pytest.mark.parametrize("stream", [False, True])
def test_each_response_gets_its_own_parlor_id_and_is_kept(openai_client, stream):
    def ask():
        if not stream:
            return openai_client.responses.create(model="gpt-native", input="same words")
        events = list(openai_client.responses.create(model="gpt-native", input="same words",
                                                     stream=True))
        assert len({e.response.id for e in events if hasattr(e, "response")}) == 1
        return events[-1].response

    first, second = ask(), ask()
    assert first.id != second.id and not first.id.startswith("resp_fake")
    assert openai_client.responses.retrieve(first.id).output_text == "Echo: same words"
    assert openai_client.responses.retrieve(second.id).output_text == "Echo: same words"
