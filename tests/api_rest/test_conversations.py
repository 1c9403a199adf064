"""Conversations and messages over /api/v1: CRUD, paging, search, sending, stopping, IDOR."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models import UsageRecord
from tests.api_rest.conftest import add_conversation
from tests.api_rest.test_auth_and_errors import assert_error


def create(client, headers, **fields) -> dict:
    response = client.post("/api/v1/conversations", json={"model": "mock/echo", **fields},
                           headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def sse_events(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        names = [line[7:] for line in lines if line.startswith("event: ")]
        if names:
            data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
            events.append((names[0], data))
    return events


def test_create_read_rename_reconfigure_and_delete(client, alice):
    created = create(client, alice, title="Plans", system_prompt="Be brief.")
    assert (created["title"], created["system_prompt"], created["messages"]) == \
        ("Plans", "Be brief.", [])
    url = f"/api/v1/conversations/{created['id']}"
    patched = client.patch(url, json={"title": "Trips", "system_prompt": "Be kind."},
                           headers=alice)
    assert patched.status_code == 200
    assert client.get(url, headers=alice).get_json()["data"]["title"] == "Trips"
    assert_error(client.patch(url, json={"model": "no/such-model"}, headers=alice), 400,
                 "invalid_request")
    assert client.get(url, headers=alice).get_json()["data"]["model"] == "mock/echo"
    assert client.delete(url, headers=alice).status_code == 204
    assert_error(client.get(url, headers=alice), 404, "not_found")


def test_unknown_model_is_refused_on_create(client, alice):
    error = assert_error(client.post("/api/v1/conversations", json={"model": "no/such"},
                                     headers=alice), 400, "invalid_request")
    assert "no/such" in error["message"]


def test_list_pages_with_meta_and_validated_order(app, client, alice):
    for n in range(5):
        add_conversation(app, "alice@example.com", f"Chat {n}")
    first = client.get("/api/v1/conversations?per_page=2&order_by=title", headers=alice)
    body = first.get_json()
    assert [c["title"] for c in body["data"]] == ["Chat 0", "Chat 1"]
    assert body["meta"] == {"page": 1, "per_page": 2, "total": 5, "has_more": True}
    last = client.get("/api/v1/conversations?per_page=2&page=3&order_by=title",
                      headers=alice).get_json()
    assert [c["title"] for c in last["data"]] == ["Chat 4"] and not last["meta"]["has_more"]
    beyond = client.get("/api/v1/conversations?per_page=2&page=9", headers=alice).get_json()
    assert beyond["data"] == []


def test_search_finds_titles_and_message_text(app, client, alice):
    add_conversation(app, "alice@example.com", "Garden", ["how deep to plant tulips"])
    add_conversation(app, "alice@example.com", "Taxes", ["deadline in april"])
    found = client.get("/api/v1/conversations?q=tulip", headers=alice).get_json()
    assert [c["title"] for c in found["data"]] == ["Garden"]
    assert "tulips" in found["data"][0]["snippet"] and found["meta"]["total"] is None


def test_send_plain_waits_for_the_reply_and_records_usage(app, client, alice):
    conversation = create(client, alice)
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    response = client.post(url, json={"content": "Hello there"}, headers=alice)
    assert response.status_code == 201
    sent = response.get_json()["data"]
    assert sent["message"]["role"] == "user" and sent["message"]["content"] == "Hello there"
    assert sent["reply"]["status"] == "complete" and "Hello there" in sent["reply"]["content"]
    detail = client.get(f"/api/v1/conversations/{conversation['id']}", headers=alice)
    assert [m["id"] for m in detail.get_json()["data"]["messages"]] == \
        [sent["message"]["id"], sent["reply"]["id"]]
    with app.app_context():
        row = db.session.scalars(select(UsageRecord)).one()
        assert (row.source, row.api_key_id is not None, row.status) == ("api", True, "complete")


def test_send_streamed_gives_start_deltas_and_the_stored_reply(client, alice):
    conversation = create(client, alice)
    response = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                           json={"content": "one two three", "stream": True}, headers=alice)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    events = sse_events(response.get_data(as_text=True))
    assert events[0][0] == "start" and events[-1][0] == "done"
    start, done = json.loads(events[0][1]), json.loads(events[-1][1])
    text = "".join(json.loads(data)["text"] for name, data in events if name == "delta")
    assert start["reply"]["status"] == "streaming" and done["id"] == start["reply"]["id"]
    assert done["status"] == "complete" and done["content"] == text and "three" in text


def test_vendor_failure_is_reported_in_the_reply(client, alice):
    conversation = create(client, alice, model="openai/error-429")
    response = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                           json={"content": "Hi"}, headers=alice)
    assert response.status_code == 201
    reply = response.get_json()["data"]["reply"]
    assert reply["status"] == "error" and "rate limiting" in reply["error"]
    assert "sk-fake" not in response.get_data(as_text=True)


def test_empty_message_is_refused(client, alice):
    conversation = create(client, alice)
    assert_error(client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                             json={"content": "   "}, headers=alice), 400, "invalid_request")


def test_stop_of_a_finished_reply_says_so(client, alice):
    conversation = create(client, alice)
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    reply = client.post(url, json={"content": "Hi"}, headers=alice).get_json()["data"]["reply"]
    stopped = client.post(f"{url}/{reply['id']}/stop", headers=alice)
    assert stopped.status_code == 200
    assert stopped.get_json()["data"] == {"stopped": False, "reply": reply}


def test_case5_another_users_ids_are_404_everywhere_and_change_nothing(app, client, alice, bob):
    conversation_id, (message_id, reply_id) = add_conversation(
        app, "alice@example.com", "Private", ["secret question", "secret answer"])
    base = f"/api/v1/conversations/{conversation_id}"
    attempts = [
        client.get(base, headers=bob),
        client.patch(base, json={"title": "Mine now"}, headers=bob),
        client.delete(base, headers=bob),
        client.post(f"{base}/messages", json={"content": "hi"}, headers=bob),
        client.post(f"{base}/messages/{reply_id}/stop", headers=bob),
        client.post(f"{base}/messages/{message_id}/stop", headers=bob),
    ]
    for response in attempts:
        assert_error(response, 404, "not_found")
    listing = client.get("/api/v1/conversations", headers=bob).get_json()
    searched = client.get("/api/v1/conversations?q=secret", headers=bob).get_json()
    assert listing["data"] == [] and searched["data"] == []
    own = client.get(base, headers=alice).get_json()["data"]
    assert own["title"] == "Private" and len(own["messages"]) == 2


def test_message_of_another_conversation_is_404(app, client, alice):
    first, _ = add_conversation(app, "alice@example.com", "A", ["x"])
    _, (other_message,) = add_conversation(app, "alice@example.com", "B", ["y"])
    assert_error(client.post(f"/api/v1/conversations/{first}/messages/{other_message}/stop",
                             headers=alice), 404, "not_found")
