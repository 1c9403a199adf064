"""Branches made over /api/v1, as the chat page makes them: Edit any user message and
Regenerate any reply (a sibling, nothing deleted), plain or streamed, with the model (the
fake vendor over real HTTP) seeing only the branch shown; refusals in the REST error shape."""

from __future__ import annotations

import json

from app.extensions import db
from app.models import Conversation
from app.repositories import accounts as accounts_repo
from app.services import chat
from tests.api_rest.conftest import add_conversation
from tests.api_rest.test_auth_and_errors import assert_error
from tests.api_rest.test_conversations import create, sse_events

MODEL = "openai/fake-chat"


def send(client, headers, conversation_id: str, text: str) -> dict:
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages",
                           json={"content": text}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def vendor_saw(fake_vendor) -> list[tuple[str, str]]:
    """The messages of the fake vendor's last chat request, as (role, text)."""
    body = [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1].body
    return [(m["role"], m["content"] if isinstance(m["content"], str)
             else "".join(p.get("text", "") for p in m["content"])) for m in body["messages"]]


def two_turns(client, headers) -> tuple[str, dict, dict]:
    conversation = create(client, headers, model=MODEL)
    first = send(client, headers, conversation["id"], "one")
    second = send(client, headers, conversation["id"], "two")
    return conversation["id"], first, second


def test_edit_of_an_earlier_message_is_a_sibling_the_model_sees_alone(client, alice,
                                                                      fake_vendor):
    conversation_id, first, second = two_turns(client, alice)
    url = f"/api/v1/conversations/{conversation_id}/messages/{first['message']['id']}/edit"

    response = client.post(url, json={"content": "uno"}, headers=alice)

    assert response.status_code == 201, response.get_data(as_text=True)
    edited = response.get_json()["data"]
    assert edited["message"]["content"] == "uno" and edited["message"]["parent_id"] is None
    assert edited["reply"]["status"] == "complete" and edited["reply"]["content"] == "Echo: uno"
    assert edited["reply"]["parent_id"] == edited["message"]["id"]
    assert vendor_saw(fake_vendor) == [("user", "uno")]  # not "one" nor the second turn
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=alice)
    tree = detail.get_json()["data"]
    assert len(tree["messages"]) == 6  # the old branch is intact
    assert tree["path"] == [edited["message"]["id"], edited["reply"]["id"]]
    assert tree["current_leaf_id"] == edited["reply"]["id"]

    back = client.patch(f"/api/v1/conversations/{conversation_id}",  # Previous version
                        json={"current_leaf_id": first["message"]["id"]}, headers=alice)
    assert back.get_json()["data"]["path"] == [
        first["message"]["id"], first["reply"]["id"], second["message"]["id"],
        second["reply"]["id"]]


def test_regenerate_of_an_earlier_reply_is_a_sibling_from_the_model_asked(client, alice,
                                                                          fake_vendor):
    conversation_id, first, second = two_turns(client, alice)
    url = f"/api/v1/conversations/{conversation_id}/messages/{first['reply']['id']}/regenerate"

    response = client.post(url, json={"model": "openai/fake-large"}, headers=alice)

    assert response.status_code == 201, response.get_data(as_text=True)
    again = response.get_json()["data"]
    assert again["message"]["id"] == first["message"]["id"]  # the message replied to
    assert again["reply"]["parent_id"] == first["message"]["id"]
    assert again["reply"]["id"] != first["reply"]["id"]
    assert again["reply"]["model"] == "openai/fake-large"
    assert again["reply"]["status"] == "complete"
    assert vendor_saw(fake_vendor) == [("user", "one")]
    sent = [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1]
    assert sent.body["model"] == "fake-large"
    tree = client.get(f"/api/v1/conversations/{conversation_id}",
                      headers=alice).get_json()["data"]
    assert tree["path"] == [first["message"]["id"], again["reply"]["id"]]
    assert {first["reply"]["id"], second["reply"]["id"]} <= {m["id"] for m in tree["messages"]}
    assert tree["model"] == MODEL  # the conversation's own model is unchanged


def test_edit_and_regenerate_stream_like_sending(client, alice, fake_vendor):
    conversation_id, first, _second = two_turns(client, alice)
    base = f"/api/v1/conversations/{conversation_id}/messages"

    edited = client.post(f"{base}/{first['message']['id']}/edit",
                         json={"content": "three four", "stream": True}, headers=alice)
    assert edited.status_code == 200 and edited.mimetype == "text/event-stream"
    events = sse_events(edited.get_data(as_text=True))
    start, done = json.loads(events[0][1]), json.loads(events[-1][1])
    assert (events[0][0], events[-1][0]) == ("start", "done")
    assert start["message"]["content"] == "three four" and start["reply"]["status"] == "streaming"
    text = "".join(json.loads(data)["text"] for name, data in events if name == "delta")
    assert done["id"] == start["reply"]["id"] and done["content"] == text == "Echo: three four"

    again = client.post(f"{base}/{done['id']}/regenerate", json={"stream": True},
                        headers=alice)
    events = sse_events(again.get_data(as_text=True))
    start, done2 = json.loads(events[0][1]), json.loads(events[-1][1])
    assert start["message"]["id"] == done["parent_id"] and done2["parent_id"] == done["parent_id"]
    assert done2["status"] == "complete" and done2["id"] != done["id"]
    assert vendor_saw(fake_vendor) == [("user", "three four")]


def test_refusals_are_rest_errors_and_change_nothing(app, client, alice):
    conversation_id, first, _second = two_turns(client, alice)
    base = f"/api/v1/conversations/{conversation_id}/messages"
    before = client.get(f"/api/v1/conversations/{conversation_id}", headers=alice).get_json()

    error = assert_error(client.post(f"{base}/{first['reply']['id']}/edit",
                                     json={"content": "mine now"}, headers=alice),
                         400, "invalid_request")
    assert "Only your own messages" in error["message"]
    error = assert_error(client.post(f"{base}/{first['message']['id']}/regenerate", json={},
                                     headers=alice), 400, "invalid_request")
    assert "no reply to regenerate" in error["message"]
    assert_error(client.post(f"{base}/{first['reply']['id']}/regenerate",
                             json={"model": "no/such-model"}, headers=alice),
                 400, "invalid_request")
    assert_error(client.post(f"{base}/{first['message']['id']}/edit", json={"content": "   "},
                             headers=alice), 400, "invalid_request")
    assert_error(client.post(f"{base}/{first['message']['id']}/edit", json={"text": "x"},
                             headers=alice), 400, "invalid_request")
    assert_error(client.post(f"{base}/nope/edit", json={"content": "x"}, headers=alice),
                 404, "not_found")
    assert_error(client.post(f"{base}/nope/regenerate", json={}, headers=alice),
                 404, "not_found")

    after = client.get(f"/api/v1/conversations/{conversation_id}", headers=alice).get_json()
    assert after["data"]["messages"] == before["data"]["messages"]
    assert after["data"]["path"] == before["data"]["path"]


def test_another_users_conversation_or_message_is_404(app, client, alice, bob):
    conversation_id, (message_id, reply_id) = add_conversation(
        app, "alice@example.com", "Private", ["secret question", "secret answer"])
    base = f"/api/v1/conversations/{conversation_id}/messages"
    assert_error(client.post(f"{base}/{message_id}/edit", json={"content": "x"}, headers=bob),
                 404, "not_found")
    assert_error(client.post(f"{base}/{reply_id}/regenerate", json={}, headers=bob),
                 404, "not_found")
    other_id, (other_message, _) = add_conversation(app, "alice@example.com", "Other",
                                                    ["a", "b"])
    assert_error(client.post(f"{base}/{other_message}/edit", json={"content": "x"},
                             headers=alice), 404, "not_found")  # not of this conversation
    own = client.get(f"/api/v1/conversations/{conversation_id}", headers=alice).get_json()
    assert len(own["data"]["messages"]) == 2


def test_a_reply_still_being_written_is_a_409_for_edit_regenerate_and_send(app, client, alice):
    conversation_id, first, _second = two_turns(client, alice)
    with app.app_context():  # a third message whose reply nobody has finished writing
        user = accounts_repo.user_by_email("alice@example.com")
        chat.send_message(user, db.session.get(Conversation, conversation_id), "three")
    base = f"/api/v1/conversations/{conversation_id}/messages"
    for response in (
            client.post(f"{base}/{first['message']['id']}/edit", json={"content": "x"},
                        headers=alice),
            client.post(f"{base}/{first['reply']['id']}/regenerate", json={}, headers=alice),
            client.post(base, json={"content": "four"}, headers=alice)):
        error = assert_error(response, 409, "conflict")
        assert "still being written" in error["message"]
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=alice).get_json()
    assert len(detail["data"]["messages"]) == 6
