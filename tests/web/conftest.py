"""Chat page tests (shared browser fixtures live in tests/conftest.py).

The app here streams like a real deployment: the mock model sends a word every 40 ms, and the
fake vendor server is configured as the ``openai`` vendor (``openai/slow-stream``,
``openai/error-429``, ... pick its behaviour).
"""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Conversation, Message
from tests.conftest import csrf_token, fake_vendor_env

MOCK_DELAY_MS = 40
STREAM_URL = re.compile(r'sse-connect="([^"]+)"')


@pytest.fixture
def app(make_app, fake_vendor):
    fake_vendor.models = [*fake_vendor.models, "slow-stream", "error-429"]  # in the picker
    return make_app(PARLOR_MOCK_DELAY_MS=MOCK_DELAY_MS, **fake_vendor_env(fake_vendor, "openai"))


def start_chat(client, model="mock/echo", message="Hello Parlor", system_prompt="") -> str:
    """Start a conversation through the new-chat form; returns its URL."""
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post("/c", data={"csrf_token": token, "model": model, "message": message,
                                       "system_prompt": system_prompt})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def stream_urls(html: str) -> list[str]:
    return STREAM_URL.findall(html)


def read_stream(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def finish_replies(client, location: str) -> str:
    """Read every pending reply's stream, as the browser would; returns the page afterwards."""
    for url in stream_urls(client.get(location).get_data(as_text=True)):
        read_stream(client, url)
    return client.get(location).get_data(as_text=True)


def stored_messages(app, conversation_id: str) -> list[Message]:
    with app.app_context():
        from sqlalchemy import select

        rows = db.session.scalars(select(Message).where(Message.conversation_id == conversation_id)
                                  .order_by(Message.seq)).all()
        db.session.expunge_all()
        return list(rows)


def add_conversation(app, user_id: int, title: str, texts: list[str]) -> str:
    """A finished conversation stored directly (no vendor call)."""
    with app.app_context():
        conversation = Conversation(user_id=user_id, model="mock/echo", title=title)
        db.session.add(conversation)
        db.session.flush()
        for seq, text in enumerate(texts, start=1):
            db.session.add(Message(conversation_id=conversation.id, seq=seq, content=text,
                                   role="user" if seq % 2 else "assistant"))
        db.session.commit()
        return conversation.id
