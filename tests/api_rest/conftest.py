"""The native REST API's tests: the mock vendor for replies, the fake vendor as ``openai``."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Conversation, Message
from app.repositories import accounts as accounts_repo
from tests.conftest import bearer, csrf_token, fake_vendor_env, log_in

MAX_REQUEST_BYTES = 64 * 1024


@pytest.fixture
def app(make_app, fake_vendor):
    fake_vendor.models = [*fake_vendor.models, "slow-stream", "error-429"]  # routed as openai/…
    return make_app(PARLOR_MAX_REQUEST_BYTES=MAX_REQUEST_BYTES,
                    **fake_vendor_env(fake_vendor, "openai"))


@pytest.fixture
def make_key(make_key):
    """tests/conftest.py's key factory, for Alice unless told otherwise."""

    def factory(email="alice@example.com", role="member", **key_fields) -> str:
        return make_key(email, role, **key_fields)

    return factory


@pytest.fixture
def alice(make_key) -> dict:
    """Headers of a member's API key."""
    return bearer(make_key("alice@example.com"))


@pytest.fixture
def bob(make_key) -> dict:
    return bearer(make_key("bob@example.com"))


@pytest.fixture
def session_client(app, make_key):
    """A browser session signed in as alice, and its CSRF token (for ``X-CSRFToken``)."""
    make_key("alice@example.com")
    client = app.test_client()
    log_in(client, "alice@example.com")
    return client, csrf_token(client.get("/settings/").get_data(as_text=True))


def add_conversation(app, email: str, title: str, texts=()) -> tuple[str, list[str]]:
    """A stored conversation (no vendor call); returns its id and its messages' ids."""
    with app.app_context():
        user = accounts_repo.user_by_email(email)
        conversation = Conversation(user_id=user.id, model="mock/echo", title=title)
        db.session.add(conversation)
        db.session.flush()
        messages = [Message(conversation_id=conversation.id, seq=seq, content=text,
                            role="user" if seq % 2 else "assistant")
                    for seq, text in enumerate(texts, start=1)]
        db.session.add_all(messages)
        db.session.commit()
        return conversation.id, [m.id for m in messages]
