"""The conversation tree and options over /api/v1: every message with its parent, the branch
shown (``path``, ``current_leaf_id``), switching branches, options that reach the vendor."""

from __future__ import annotations

from app.extensions import db
from app.models import Conversation
from app.services import chat
from tests.api_rest.conftest import add_conversation
from tests.api_rest.test_auth_and_errors import assert_error
from tests.api_rest.test_conversations import create


def send(client, headers, conversation_id: str, text: str) -> dict:
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages",
                           json={"content": text}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def test_the_tree_and_the_current_leaf_are_exposed_and_a_branch_can_be_shown(app, client,
                                                                              alice):
    conversation = create(client, alice)
    url = f"/api/v1/conversations/{conversation['id']}"
    first = send(client, alice, conversation["id"], "one")
    second = send(client, alice, conversation["id"], "two")
    with app.app_context():  # an edit of the first message: a second branch
        edited = chat.edit_message(db.session.get(Conversation, conversation["id"]),
                                   first["message"]["id"], "uno")
        edited_id, edit_parent = edited.id, edited.parent_id

    detail = client.get(url, headers=alice).get_json()["data"]
    parents = {m["id"]: m["parent_id"] for m in detail["messages"]}
    assert len(parents) == 6  # every version, nothing deleted
    assert parents[first["reply"]["id"]] == first["message"]["id"]
    assert parents[second["message"]["id"]] == first["reply"]["id"]
    assert parents[edit_parent] is None  # a sibling of the first message
    assert detail["current_leaf_id"] == edited_id and detail["path"] == [edit_parent, edited_id]

    shown = client.patch(url, json={"current_leaf_id": first["message"]["id"]}, headers=alice)
    assert shown.status_code == 200
    assert shown.get_json()["data"]["path"] == [
        first["message"]["id"], first["reply"]["id"], second["message"]["id"],
        second["reply"]["id"]]
    assert_error(client.patch(url, json={"current_leaf_id": "nope"}, headers=alice), 400,
                 "invalid_request")


def test_a_conversation_stored_as_a_list_reads_as_one_branch(app, client, alice):
    conversation_id, ids = add_conversation(app, "alice@example.com", "Old", ["a", "b", "c"])
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=alice).get_json()
    assert detail["data"]["path"] == ids and detail["data"]["current_leaf_id"] == ids[-1]


def test_options_are_stored_and_reach_the_vendor(client, alice, fake_vendor):
    conversation = create(client, alice, model="openai/fake-chat",
                          options={"temperature": 0.25, "max_tokens": 50})
    assert conversation["options"] == {"temperature": 0.25, "max_tokens": 50,
                                       "reasoning_effort": None}
    url = f"/api/v1/conversations/{conversation['id']}"
    send(client, alice, conversation["id"], "hello")
    sent = [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1].body
    assert sent["temperature"] == 0.25
    assert sent.get("max_completion_tokens", sent.get("max_tokens")) == 50

    patched = client.patch(url, json={"options": {"reasoning_effort": "high"}}, headers=alice)
    assert patched.get_json()["data"]["options"]["reasoning_effort"] == "high"
    send(client, alice, conversation["id"], "again")
    sent = [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1].body
    assert "reasoning_effort" not in sent  # fake-chat takes none: stored, not sent
    client.patch(url, json={"model": "openai/deep-reasoning"}, headers=alice)
    send(client, alice, conversation["id"], "and again")
    sent = [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1].body
    assert sent["reasoning_effort"] == "high" and "temperature" not in sent


def test_bad_options_are_a_400_naming_the_field(client, alice):
    conversation = create(client, alice)
    url = f"/api/v1/conversations/{conversation['id']}"
    for options in ({"temperature": 5}, {"max_tokens": 0}, {"reasoning_effort": "max"},
                    {"top_k": 3}):
        error = assert_error(client.patch(url, json={"options": options}, headers=alice), 400,
                             "invalid_request")
        assert "options" in str(error)
    assert client.get(url, headers=alice).get_json()["data"]["options"]["temperature"] is None


def test_a_title_given_through_the_api_is_marked_as_the_users(client, alice):
    assert create(client, alice, title="Mine")["title_renamed"] is True
    assert create(client, alice)["title_renamed"] is False
