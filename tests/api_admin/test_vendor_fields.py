"""Declared vendor fields through the admin API: ``settings`` checked against the kind, secret
ones stored encrypted and answered as masks, and what is stored reaching the adapter (an Azure
OpenAI vendor answering through both /v1 wire formats)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import VendorCredential
from app.services import vendor_fields
from app.services.encryption import SecretBox
from app.vendors import KINDS, VendorKind
from app.vendors.registry import API_KEY, VendorField
from tests.conftest import TEST_FERNET_KEY
from tests.fakes.vendor_server import DEFAULT_API_KEY


@pytest.fixture
def azure_vendor(api, fake_vendor) -> dict:
    response = api("post", "/vendors", json={
        "name": "azure-east", "kind": "azure", "base_url": fake_vendor.url,
        "api_key": DEFAULT_API_KEY, "settings": {"api_version": "2025-03-01-preview"}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def test_a_kinds_declared_fields_are_stored_and_answered(api, azure_vendor):
    assert azure_vendor["settings"] == {"api_version": "2025-03-01-preview"}
    assert azure_vendor["secret_masks"] == {}
    changed = api("patch", "/vendors/azure-east", json={"settings": {"api_version": "2024-10-21"}})
    assert changed.status_code == 200
    assert changed.get_json()["data"]["settings"] == {"api_version": "2024-10-21"}
    cleared = api("patch", "/vendors/azure-east", json={"settings": {"api_version": None}})
    assert cleared.get_json()["data"]["settings"] == {}


def test_a_field_the_kind_does_not_declare_is_a_400_naming_it(api, fake_vendor):
    refused = api("post", "/vendors", json={
        "name": "openai-two", "kind": "openai", "api_key": DEFAULT_API_KEY,
        "settings": {"api_version": "2024-10-21"}})
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert "api_version" in error["message"] and "OpenAI" in error["message"]


def test_an_azure_vendor_needs_its_endpoint(api):
    refused = api("post", "/vendors", json={"name": "azure-x", "kind": "azure",
                                            "api_key": DEFAULT_API_KEY})
    assert refused.status_code == 400 and "base URL" in refused.get_json()["error"]["message"]


def test_the_stored_fields_reach_the_adapter_through_both_wire_formats(
        api, client, member, fake_vendor, azure_vendor):
    created = api("post", "/models", json={"public_name": "company-gpt", "vendor": "azure-east",
                                           "upstream_model": "gpt4o-prod"})
    assert created.status_code == 201, created.get_json()
    chat = client.post("/v1/chat/completions", headers=member, json={
        "model": "company-gpt", "messages": [{"role": "user", "content": "hi azure"}]})
    assert chat.status_code == 200, chat.get_json()
    assert chat.get_json()["choices"][0]["message"]["content"] == "Echo: hi azure"
    sent = fake_vendor.last_request
    assert sent.path == "/openai/deployments/gpt4o-prod/chat/completions"
    assert sent.query["api-version"] == ["2025-03-01-preview"]
    assert sent.headers["api-key"] == DEFAULT_API_KEY

    messages = client.post("/v1/messages", headers=member, json={
        "model": "company-gpt", "max_tokens": 50, "stream": True,
        "messages": [{"role": "user", "content": "streamed azure"}]})
    assert messages.status_code == 200
    body = messages.get_data(as_text=True)
    texts = [json.loads(line[5:])["delta"].get("text", "") for line in body.splitlines()
             if line.startswith("data:") and '"content_block_delta"' in line]
    assert "".join(texts) == "Echo: streamed azure"
    assert fake_vendor.last_request.path == "/openai/deployments/gpt4o-prod/chat/completions"


def test_secret_fields_are_encrypted_masked_and_kept_when_sent_empty(app, monkeypatch):
    """A kind with a secret extra field (as AWS's secret access key is): stored encrypted in one
    blob, shown only as a mask, handed to the adapter decrypted."""
    kind = VendorKind("vault-test", "Vault test", "app.vendors.mock:MockHandler", None, fields=(
        API_KEY, VendorField("region", "Region", required=True),
        VendorField("secret_token", "Secret token", secret=True, required=True)))
    monkeypatch.setitem(KINDS, "vault-test", kind)
    box = SecretBox([TEST_FERNET_KEY])
    row = VendorCredential(name="v", kind="vault-test")
    vendor_fields.store(row, "vault-test", {"region": "eu-west-1",
                                            "secret_token": "tok-0123456789abcdef"},
                        box, replace=True)
    assert row.settings == {"region": "eu-west-1"}
    assert b"tok-0123456789abcdef" not in row.encrypted_settings
    assert vendor_fields.masks(row, box) == {"secret_token": "tok…cdef"}
    vendor_fields.store(row, "vault-test", {"secret_token": "", "region": "us-east-1"}, box,
                        replace=False)
    assert dict(vendor_fields.options(row, box)) == {"region": "us-east-1",
                                                     "secret_token": "tok-0123456789abcdef"}
    with pytest.raises(vendor_fields.FieldError) as missing:
        vendor_fields.store(row, "vault-test", {"region": ""}, box, replace=False)
    assert missing.value.field == "region"


def test_secret_fields_never_appear_in_answers_or_the_audit_trail(app, api, monkeypatch):
    kind = VendorKind("vault-test", "Vault test", "app.vendors.mock:MockHandler", None, fields=(
        VendorField("secret_token", "Secret token", secret=True, required=True),))
    monkeypatch.setitem(KINDS, "vault-test", kind)
    with app.app_context():
        from app.services import vendor_credentials
        from app.services.actor import Actor
        vendor_credentials.add(Actor(user_id=None, ip="127.0.0.1"), name="vault", kind="azure",
                               base_url="http://127.0.0.1:9", api_key=DEFAULT_API_KEY)
        row = db.session.scalar(select(VendorCredential).where(VendorCredential.name == "vault"))
        row.kind = "vault-test"
        vendor_fields.store(row, "vault-test", {"secret_token": "tok-SECRETSECRET1234"},
                            SecretBox([TEST_FERNET_KEY]), replace=True)
        db.session.commit()
    answers = [api("get", "/vendors/vault").get_data(as_text=True),
               api("get", "/vendors").get_data(as_text=True),
               api("get", "/audit?per_page=100").get_data(as_text=True)]
    assert json.loads(answers[0])["data"]["secret_masks"] == {"secret_token": "tok…1234"}
    for text in answers:
        assert "SECRETSECRET" not in text
