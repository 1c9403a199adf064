"""Automatic titles (services/chat_titles.py): PARLOR_TITLE_MODEL names a conversation after its
first reply, through the real SDK against the fake vendor, off the request; unset, the first
words stay; a title its user gave is never overwritten."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Conversation
from app.services import chat, chat_titles
from tests.conftest import bearer, eventually, fake_vendor_env, new_key

TITLE_MODEL = "openai/fake-chat"


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(PARLOR_MOCK_VENDOR="1", PARLOR_TITLE_MODEL=TITLE_MODEL,
                    **fake_vendor_env(fake_vendor, "openai"))


@pytest.fixture
def alice(app) -> dict:
    return bearer(new_key(app, "alice@example.com"))


def title_requests(fake_vendor) -> list[dict]:
    return [r.body for r in fake_vendor.requests
            if r.path.endswith("/chat/completions") and r.body["messages"][0]["role"] == "system"
            and r.body["messages"][0]["content"] == chat_titles.INSTRUCTIONS]


def start(client, headers, **fields) -> str:
    response = client.post("/api/v1/conversations", json={"model": "mock/echo", **fields},
                           headers=headers)
    assert response.status_code == 201
    return response.get_json()["data"]["id"]


def send(client, headers, conversation_id: str, text: str) -> None:
    response = client.post(f"/api/v1/conversations/{conversation_id}/messages",
                           json={"content": text}, headers=headers)
    assert response.status_code == 201 and response.get_json()["data"]["reply"]["status"] == \
        "complete"


def title_of(client, headers, conversation_id: str) -> str:
    return client.get(f"/api/v1/conversations/{conversation_id}",
                      headers=headers).get_json()["data"]["title"]


def test_the_title_model_names_the_conversation_after_its_first_reply(client, alice,
                                                                      fake_vendor):
    conversation_id = start(client, alice)
    send(client, alice, conversation_id, "Plan a week in Rome")
    # The reply is answered with the first words as the title; the model's title follows.
    title = eventually(lambda: (t := title_of(client, alice, conversation_id))
                       .startswith("Echo:") and t)
    assert title == "Echo: User: Plan a week in Rome Assistant: Plan a week in Rome"
    [asked] = title_requests(fake_vendor)
    assert asked["model"] == "fake-chat"
    assert "Plan a week in Rome" in asked["messages"][1]["content"]

    send(client, alice, conversation_id, "And Naples?")  # not a first reply: no new title
    assert len(title_requests(fake_vendor)) == 1


def test_a_title_the_user_gave_is_never_overwritten(app, client, alice, fake_vendor):
    named = start(client, alice, title="Mine")
    send(client, alice, named, "Plan a week in Rome")
    assert title_of(client, alice, named) == "Mine" and title_requests(fake_vendor) == []

    renamed = start(client, alice)
    with app.app_context():  # renamed while the title model is thinking
        conversation = db.session.get(Conversation, renamed)
        chat.rename(conversation, "Renamed")
        chat_titles._write_title(app, TITLE_MODEL, renamed, conversation.user_id, "q", "a")
    assert len(title_requests(fake_vendor)) == 1  # the model was asked...
    assert title_of(client, alice, renamed) == "Renamed"  # ...and its title dropped


def test_without_a_title_model_the_first_words_stay(make_app, fake_vendor):
    app = make_app(PARLOR_MOCK_VENDOR="1", **fake_vendor_env(fake_vendor, "openai"))
    client, alice = app.test_client(), bearer(new_key(app, "alice@example.com"))
    conversation_id = start(client, alice)
    send(client, alice, conversation_id, "Plan a week in Rome")
    assert title_of(client, alice, conversation_id) == "Plan a week in Rome"
    assert title_requests(fake_vendor) == []


@pytest.mark.parametrize(("answer", "title"), [
    ('"Rome in a week."', "Rome in a week"), ("Title: Trip\nplans", "Trip plans"),
    ("x" * 100, "x" * 79 + "…")])
def test_the_models_answer_is_cleaned_into_a_title(answer, title):
    assert chat_titles.clean_title(answer) == title
