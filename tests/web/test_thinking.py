"""Visible reasoning: a reasoning model's thinking streams into a collapsed Thinking section
above the reply, is stored with it, and comes back on a reload (and in the REST API)."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.conftest import new_key
from tests.fakes.reasoning import THINKING_TEXT
from tests.web.conftest import stored_messages
from tests.web.test_chat_browser import REPLY, _log_in, _start

STREAMED_THINKING = "".join(word + " " for word in THINKING_TEXT.split(" "))


def _events(body: str) -> list[tuple[str, str, str]]:
    found = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if ": " in line and not line.startswith(":"))
        if "event" in fields:
            found.append((fields.get("id", ""), fields["event"], fields.get("data", "")))
    return found


def test_rest_stream_sends_thinking_events_first_and_stores_them_with_the_reply(app, client):
    headers = {"Authorization": f"Bearer {new_key(app)}"}
    created = client.post("/api/v1/conversations", headers=headers,
                          json={"model": "openai/deep-reasoning"})
    conversation_id = created.get_json()["data"]["id"]

    body = client.post(f"/api/v1/conversations/{conversation_id}/messages", headers=headers,
                       json={"content": "hello", "stream": True}).get_data(as_text=True)

    events = _events(body)
    thinking = [(i, json.loads(d)["text"]) for i, name, d in events if name == "thinking"]
    deltas = [name for _i, name, _d in events if name in ("thinking", "delta")]
    assert "".join(text for _i, text in thinking) == STREAMED_THINKING
    assert thinking[-1][0] == f"t{len(STREAMED_THINKING)}"  # its own offsets
    assert deltas.index("delta") > len(thinking) - 1  # the reasoning comes first
    done = json.loads(events[-1][2])
    assert done["thinking"] == STREAMED_THINKING and done["content"] == "Echo: hello"
    reply = stored_messages(app, conversation_id)[-1]
    assert (reply.thinking, reply.content) == (STREAMED_THINKING, "Echo: hello")


def test_thinking_is_shown_collapsed_above_the_reply_and_after_a_reload(
        page: Page, live_server, make_user, fake_vendor, screenshot):
    fake_vendor.models = [*fake_vendor.models, "deep-reasoning"]
    make_user("member@example.com")
    _log_in(page, live_server)
    _start(page, "openai/deep-reasoning", "<b>hello</b>")

    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete")
    thinking = reply.locator("details.thinking")
    expect(thinking.locator("summary")).to_have_text("Thinking")
    expect(thinking.locator(".thinking-text")).not_to_be_visible()  # collapsed
    thinking.locator("summary").click()
    expect(thinking.locator(".thinking-text")).to_have_text(STREAMED_THINKING.strip())
    screenshot("thinking")

    page.reload()
    reply = page.locator(REPLY).last
    reply.locator("details.thinking summary").click()
    expect(reply.locator(".thinking-text")).to_contain_text("The user wants an echo.")
    expect(reply.locator(".content")).to_have_text("Echo: <b>hello</b>")  # text, not markup


def test_a_reply_without_reasoning_has_no_thinking_section(page: Page, live_server, make_user):
    make_user("member@example.com")
    _log_in(page, live_server)
    _start(page, "mock/echo", "plain")
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator("details.thinking")).to_have_count(0)


def test_stored_thinking_is_rendered_as_safely_as_the_reply(member_client, app):
    from app.extensions import db
    from app.models import Conversation, Message, User

    with app.app_context():
        user = db.session.query(User).filter_by(email="member@example.com").one()
        conversation = Conversation(user_id=user.id, model="mock/echo", title="Safe")
        db.session.add(conversation)
        db.session.flush()
        reply = Message(conversation_id=conversation.id, seq=1, role="assistant",
                        content="ok", thinking='<img src=x onerror="alert(1)"> **bold**')
        db.session.add(reply)
        db.session.flush()
        conversation.current_leaf_id = reply.id
        db.session.commit()
        conversation_id = conversation.id

    page = member_client.get(f"/c/{conversation_id}").get_data(as_text=True)

    assert "<summary>Thinking</summary>" in page and "<strong>bold</strong>" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror" in page  # text, not markup
