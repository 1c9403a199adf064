"""Attachments to real vendor SDKs over HTTP (the fake vendor as both kinds): each vendor gets
its own format, and the tokens it counts for images and documents reach the usage ledger."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services import vendor_credentials
from tests.conftest import bearer, fake_vendor_env
from tests.fakes import files
from tests.fakes.vendor_server import MEDIA_PART_TOKENS


@pytest.fixture
def app(make_app, fake_vendor):
    app = make_app(**fake_vendor_env(fake_vendor, "openai", "anthropic"))
    with app.app_context():
        vendor_credentials.ensure_environment_credentials()
        ids = dict(db.session.execute(select(VendorCredential.name, VendorCredential.id)).all())
        db.session.add_all([
            ModelRoute(public_name="claude-vision", credential_id=ids["anthropic"],
                       upstream_model="fake-vision", capabilities=["images", "pdf"]),
            ModelRoute(public_name="gpt-vision", credential_id=ids["openai"],
                       upstream_model="fake-vision", capabilities=["images", "pdf"]),
        ])
        db.session.commit()
    return app


@pytest.fixture
def alice(make_key) -> dict:
    return bearer(make_key("alice@example.com"))


def send(client, headers, model: str, uploads: list[tuple[bytes, str]]) -> dict:
    ids = [client.post("/api/v1/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data").get_json()["data"]["id"]
           for data, name in uploads]
    conversation = client.post("/api/v1/conversations", headers=headers,
                               json={"model": model}).get_json()["data"]["id"]
    response = client.post(f"/api/v1/conversations/{conversation}/messages", headers=headers,
                           json={"content": "Describe", "attachments": ids})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]["reply"]


@pytest.mark.parametrize("model, protocol", [("claude-vision", "anthropic"),
                                             ("gpt-vision", "openai")])
def test_image_and_pdf_tokens_counted_by_the_vendor_reach_the_ledger(
        client, alice, fake_vendor, usage_rows, model, protocol):
    reply = send(client, alice, model, [(files.png(), "cat.png"), (files.pdf(), "q.pdf")])
    assert reply["status"] == "complete"
    call = [r for r in fake_vendor.requests if r.method == "POST"][-1]
    assert call.protocol == protocol
    assert reply["input_tokens"] >= 2 * MEDIA_PART_TOKENS
    row = usage_rows()[-1]
    assert row.input_tokens == reply["input_tokens"] and row.model == model


def test_openai_gets_a_pdf_as_a_file_part_when_the_model_takes_pdfs(client, alice,
                                                                     fake_vendor):
    send(client, alice, "gpt-vision", [(files.pdf(), "q.pdf")])
    body = [r for r in fake_vendor.requests if r.method == "POST"][-1].body
    part = body["messages"][-1]["content"][0]
    assert part["type"] == "file"
    assert part["file"]["filename"] == "q.pdf"
    assert part["file"]["file_data"].startswith("data:application/pdf;base64,")


def test_a_text_file_is_inlined_with_its_name(client, alice, fake_vendor):
    send(client, alice, "claude-vision", [(b"a,b\n1,2\n", "table.csv")])
    body = [r for r in fake_vendor.requests if r.method == "POST"][-1].body
    blocks = body["messages"][-1]["content"]
    assert blocks[0] == {"type": "text", "text": "File table.csv:\n\na,b\n1,2\n"}
    assert blocks[1] == {"type": "text", "text": "Describe"}
