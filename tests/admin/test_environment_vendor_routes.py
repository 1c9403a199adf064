"""Model routes can point at vendors configured by environment variables (read-only ones)."""

from __future__ import annotations

import openai
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import VendorCredential
from app.services import accounts, keys, vendor_credentials
from tests.conftest import PASSWORD, csrf_token, fake_vendor_env, log_in


@pytest.fixture
def app(make_app, fake_vendor):
    app = make_app(**fake_vendor_env(fake_vendor, "openai"))
    with app.app_context():
        vendor_credentials.ensure_environment_credentials()  # as flask bootstrap does
    return app


def test_alias_to_an_environment_vendor_answers_through_its_key(app, client, live_server,
                                                                 fake_vendor):
    with app.app_context():
        accounts.create_user("boss@example.com", PASSWORD, role="admin")
        _, secret = keys.create_key(accounts.create_user("member@example.com", PASSWORD))
    log_in(client, "boss@example.com")
    form = client.get("/admin/models/").get_data(as_text=True)
    assert ">openai</option>" in form  # the environment vendor is offered as a target
    with app.app_context():
        stand_in = db.session.scalars(select(VendorCredential).where(
            VendorCredential.name == "openai")).one()
        assert (stand_in.name, stand_in.from_environment, stand_in.encrypted_secret) == (
            "openai", True, None)
    response = client.post("/admin/models/", data={
        "csrf_token": csrf_token(form), "public_name": "fast", "credential_id": stand_in.id,
        "upstream_model": "fake-chat", "enabled": "y", "input_price": "0",
        "output_price": "0", "priority": "0", "fallback_group": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]

    sdk = openai.OpenAI(base_url=live_server + "/v1", api_key=secret, max_retries=0)
    reply = sdk.chat.completions.create(model="fast",
                                        messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content == "Echo: ping"
    upstream = fake_vendor.requests[-1]
    assert upstream.body["model"] == "fake-chat"
    assert upstream.headers["authorization"] == f"Bearer {fake_vendor.api_key}"


def test_environment_vendor_stand_in_is_not_listed_or_editable(app, client):
    with app.app_context():
        accounts.create_user("boss@example.com", PASSWORD, role="admin")
    log_in(client, "boss@example.com")
    with app.app_context():
        stand_in = db.session.scalars(select(VendorCredential).where(
            VendorCredential.name == "openai")).one()
    listing = client.get("/admin/vendors/").get_data(as_text=True)
    assert listing.count(">openai<") <= 1  # once, as the read-only environment vendor
    assert client.post(f"/admin/vendors/{stand_in.id}/delete", data={
        "csrf_token": csrf_token(listing)}).status_code == 404


def _stand_ins() -> list[str]:
    return list(db.session.scalars(select(VendorCredential.name).where(
        VendorCredential.from_environment)))


def test_bootstrap_adds_each_environment_vendor_stand_in_once(app):
    with app.app_context():
        db.session.execute(VendorCredential.__table__.delete())
        db.session.commit()
        first = app.test_cli_runner().invoke(args=["bootstrap"])
        added = _stand_ins()
        second = app.test_cli_runner().invoke(args=["bootstrap"])
        assert "environment vendor openai" in first.output and "openai" in added
        assert "environment vendor" not in second.output and _stand_ins() == added


def test_models_page_reads_route_targets_without_writing(app, client):
    with app.app_context():
        accounts.create_user("boss@example.com", PASSWORD, role="admin")
        db.session.execute(VendorCredential.__table__.delete())
        db.session.commit()
    log_in(client, "boss@example.com")
    page = client.get("/admin/models/").get_data(as_text=True)
    assert ">openai</option>" not in page  # no stand-in yet: bootstrap has not run
    with app.app_context():
        assert _stand_ins() == []
        assert "openai" in vendor_credentials.ensure_environment_credentials()
    assert ">openai</option>" in client.get("/admin/models/").get_data(as_text=True)
