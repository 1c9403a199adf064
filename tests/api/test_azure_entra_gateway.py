"""An Azure OpenAI vendor stored with a Microsoft Entra service principal, behind the gateway:
plain and streamed answers through the openai SDK, a refused secret as the API's auth error
(502, never a 500), the client secret encrypted and masked, its authority checked like a base
URL."""

from __future__ import annotations

import openai
import pytest

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services import vendor_credentials
from app.services.actor import Actor
from tests.fakes.azure import ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET, ENTRA_TENANT

ACTOR = Actor(user_id=None, ip="127.0.0.1")


def entra_options(fake, secret=ENTRA_CLIENT_SECRET) -> dict[str, str]:
    return {"tenant_id": ENTRA_TENANT, "client_id": ENTRA_CLIENT_ID, "client_secret": secret,
            "authority": fake.url}


@pytest.fixture
def stored_entra_route(app, fake_vendor):
    def store(secret: str) -> None:
        with app.app_context():
            vendor_credentials.add(ACTOR, name="az", kind="azure", base_url=fake_vendor.url,
                                   api_key=None,
                                   settings=entra_options(fake_vendor, secret))
            row = db.session.query(VendorCredential).filter_by(name="az").one()
            db.session.add(ModelRoute(public_name="entra", credential=row,
                                      upstream_model="gpt4o-prod"))
            db.session.commit()
    return store


def test_the_gateway_answers_through_an_entra_vendor(stored_entra_route, openai_client):
    stored_entra_route(ENTRA_CLIENT_SECRET)
    reply = openai_client.chat.completions.create(
        model="entra", messages=[{"role": "user", "content": "via entra"}])
    assert reply.choices[0].message.content == "Echo: via entra"
    chunks = list(openai_client.chat.completions.create(
        model="entra", stream=True, messages=[{"role": "user", "content": "streamed entra"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Echo: streamed entra")


def test_a_bad_secret_is_the_gateway_auth_error_not_a_500(stored_entra_route, openai_client):
    stored_entra_route("a-wrong-client-secret-1234")
    with pytest.raises(openai.APIStatusError) as caught:
        openai_client.chat.completions.create(
            model="entra", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 502
    assert "refused Parlor's credential" in caught.value.body["message"]
    assert "a-wrong-client-secret-1234" not in str(caught.value.body)


def test_the_client_secret_is_stored_encrypted_and_shown_masked(app, stored_entra_route):
    stored_entra_route(ENTRA_CLIENT_SECRET)
    with app.app_context():
        row = db.session.query(VendorCredential).filter_by(name="az").one()
        assert "client_secret" not in (row.settings or {})
        assert ENTRA_CLIENT_SECRET.encode() not in (row.encrypted_settings or b"")
        view = next(v for v in vendor_credentials.listing() if v.name == "az")
    assert ENTRA_CLIENT_SECRET not in str(view)
    assert view.secret_masks["client_secret"].endswith(ENTRA_CLIENT_SECRET[-4:])


def test_an_entra_authority_at_a_metadata_address_is_refused(app, fake_vendor):
    with app.app_context(), pytest.raises(vendor_credentials.CredentialError) as refused:
        vendor_credentials.add(ACTOR, name="az2", kind="azure", base_url=fake_vendor.url,
                               api_key=None, settings={**entra_options(fake_vendor),
                                                       "authority": "http://169.254.169.254"})
    assert refused.value.field == "authority" and "Entra authority" in str(refused.value)


@pytest.mark.parametrize("settings", [{}, {"tenant_id": ENTRA_TENANT,
                                           "client_id": ENTRA_CLIENT_ID}])
def test_an_azure_vendor_needs_a_key_or_a_whole_service_principal(app, fake_vendor, settings):
    with app.app_context(), pytest.raises(vendor_credentials.CredentialError) as refused:
        vendor_credentials.add(ACTOR, name="az3", kind="azure", base_url=fake_vendor.url,
                               api_key=None, settings=settings)
    assert refused.value.field == "api_key"
    assert "API key or Entra tenant ID, Entra client ID, Entra client secret" in str(
        refused.value)


def test_a_key_alone_still_makes_an_azure_vendor(app, fake_vendor):
    with app.app_context():
        row = vendor_credentials.add(ACTOR, name="az4", kind="azure", base_url=fake_vendor.url,
                                     api_key=fake_vendor.api_key, settings={})
        assert row.id is not None
