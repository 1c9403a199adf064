"""The chat page with the new vendor kinds: a route to an Azure OpenAI deployment, a Gemini model
and a Bedrock model each answers in the chat, streamed into the page and stored, against the
fake vendor speaking each vendor's own wire format."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services import vendor_credentials
from app.services.actor import Actor
from tests.fakes.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.web.conftest import finish_replies, start_chat, stored_messages

FIELDS = {
    "azure": {"settings": {"api_version": "2024-10-21"}},
    "gemini": {},
    "bedrock": {"api_key": None, "settings": {
        "region": "us-east-1", "aws_access_key_id": ACCESS_KEY_ID,
        "aws_secret_access_key": SECRET_ACCESS_KEY}},
}

PATHS = {"azure": "/openai/deployments/deploy-chat/chat/completions",
         "gemini": "/v1/models/deploy-chat:streamGenerateContent",
         "bedrock": "/model/deploy-chat/converse-stream"}


@pytest.mark.parametrize("kind", sorted(FIELDS))
def test_a_new_vendor_kind_answers_in_the_chat(member_client, app, fake_vendor, kind):
    with app.app_context():
        vendor_credentials.add(Actor(user_id=None, ip="127.0.0.1"), name=f"my-{kind}",
                               kind=kind, base_url=fake_vendor.url,
                               **{"api_key": fake_vendor.api_key, **FIELDS[kind]})
        credential = db.session.query(VendorCredential).filter_by(name=f"my-{kind}").one()
        db.session.add(ModelRoute(public_name=f"team-{kind}", credential=credential,
                                  upstream_model="deploy-chat"))
        db.session.commit()
    assert f"team-{kind}" in member_client.get("/").get_data(as_text=True)  # in the picker

    location = start_chat(member_client, model=f"team-{kind}", message="one two three")
    page = finish_replies(member_client, location)

    assert "Echo: one two three" in page
    user, reply = stored_messages(app, location.rsplit("/", 1)[1])
    assert (reply.status, reply.content) == ("complete", "Echo: one two three")
    assert fake_vendor.last_request.path == PATHS[kind]  # the vendor's own format, streamed
