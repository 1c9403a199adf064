"""The response cache in the chat: the same first message on a route that caches is answered
from the cache the second time (no vendor call), streamed into the page and stored, and filed in
the usage ledger as ``cached`` at no cost."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, UsageRecord, VendorCredential
from app.services import vendor_credentials
from app.services.actor import Actor
from tests.conftest import eventually
from tests.web.conftest import finish_replies, start_chat, stored_messages


def test_the_same_first_message_is_answered_from_the_cache(member_client, app, fake_vendor):
    with app.app_context():
        vendor_credentials.add(Actor(user_id=None, ip="127.0.0.1"), name="cachy",
                               kind="openai-compatible", base_url=fake_vendor.openai_base_url,
                               api_key=fake_vendor.api_key)
        credential = db.session.scalar(select(VendorCredential).where(
            VendorCredential.name == "cachy"))
        db.session.add(ModelRoute(public_name="faq", credential=credential,
                                  upstream_model="fake-chat", response_cache_ttl=300,
                                  input_price=Decimal(1), output_price=Decimal(1)))
        db.session.commit()

    replies = []
    for _ in range(2):
        location = start_chat(member_client, model="faq", message="what are your hours")
        assert "Echo: what are your hours" in finish_replies(member_client, location)
        replies.append(stored_messages(app, location.rsplit("/", 1)[1])[1])

    assert [r.content for r in replies] == ["Echo: what are your hours"] * 2
    assert [r.status for r in replies] == ["complete", "complete"]
    assert len([r for r in fake_vendor.requests if r.path == "/v1/chat/completions"]) == 1

    def ledger():
        with app.app_context():
            rows = db.session.scalars(select(UsageRecord).order_by(UsageRecord.id)).all()
            return [(r.status, r.cost) for r in rows] if len(rows) == 2 else None

    rows = eventually(ledger)
    assert [status for status, _ in rows] == ["complete", "cached"]
    assert rows[0][1] > 0 and rows[1][1] == 0
