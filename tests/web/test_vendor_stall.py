"""Case 18 in the chat: a reply whose vendor stalls mid-stream is kept, marked incomplete."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Message
from tests.conftest import csrf_token, log_in


def test_case18_stalled_chat_reply_is_kept_as_incomplete(stall_app, stalling, make_user):
    make_user("member@example.com")
    client = stall_app.test_client()
    log_in(client, "member@example.com")
    token = csrf_token(client.get("/").get_data(as_text=True))
    page = client.post("/c", data={"csrf_token": token, "model": "openai/stall",
                                   "message": "hi"}, follow_redirects=True)
    for stream in re.findall(r'sse-connect="([^"]+)"', page.get_data(as_text=True)):
        client.get(stream).get_data()

    with stall_app.app_context():
        reply = db.session.scalars(db.select(Message).where(Message.role == "assistant")).one()
        assert (reply.status, reply.content) == ("incomplete", "one two three ")
        assert reply.error  # the reason is kept
        assert reply.output_tokens > 0
