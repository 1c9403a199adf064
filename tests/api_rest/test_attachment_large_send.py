"""A large image attached in the REST API reaches each vendor whole, from every store (the
database on SQLite and PostgreSQL, read in pieces, or PARLOR_ATTACHMENTS_DIR): sent from the
stored bytes, base64-encoded as the body is written (app/vendors/streamed_body.py), with one
Content-Length and the exact stored image."""

from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.models.attachments import Attachment
from app.services import vendor_credentials
from app.services.attachment_storage import READ_PIECE
from app.vendors.streamed_body import STREAM_FROM
from tests.conftest import bearer, fake_vendor_env


def noisy_png(side: int = 700) -> bytes:
    """Random pixels: a PNG of about ``3 * side**2`` bytes (above the streamed size)."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.fixture(params=["sqlite", "postgresql", "folder"])
def store(request, tmp_path) -> dict:
    if request.param == "postgresql":
        return {"database_url": request.getfixturevalue("postgres_url")}
    return {"PARLOR_ATTACHMENTS_DIR": tmp_path / "files"} if request.param == "folder" else {}


@pytest.fixture
def app(make_app, fake_vendor, store):
    app = make_app(**fake_vendor_env(fake_vendor, "openai", "anthropic"), **store)
    with app.app_context():
        vendor_credentials.ensure_environment_credentials()
        ids = dict(db.session.execute(select(VendorCredential.name, VendorCredential.id)).all())
        db.session.add_all([
            ModelRoute(public_name="claude-vision", credential_id=ids["anthropic"],
                       upstream_model="fake-vision", capabilities=["images"]),
            ModelRoute(public_name="gpt-vision", credential_id=ids["openai"],
                       upstream_model="fake-vision", capabilities=["images"]),
        ])
        db.session.commit()
    return app


@pytest.mark.parametrize("model, protocol", [("claude-vision", "anthropic"),
                                             ("gpt-vision", "openai")])
def test_a_large_stored_image_reaches_the_vendor_whole(app, client, make_key, fake_vendor,
                                                       model, protocol):
    alice = bearer(make_key("alice@example.com"))
    uploaded = client.post("/api/v1/attachments", headers=alice,
                           data={"file": (io.BytesIO(noisy_png()), "noise.png")},
                           content_type="multipart/form-data").get_json()["data"]
    stored = client.get(f"/api/v1/attachments/{uploaded['id']}/content", headers=alice).data
    # the streamed path, and more than one piece read from the database
    assert len(stored) > max(STREAM_FROM, READ_PIECE)
    with app.app_context():  # read back whole: the digest taken of the bytes at upload
        assert hashlib.sha256(stored).hexdigest() == db.session.get(
            Attachment, uploaded["id"]).sha256
    conversation = client.post("/api/v1/conversations", headers=alice,
                               json={"model": model}).get_json()["data"]["id"]
    response = client.post(f"/api/v1/conversations/{conversation}/messages", headers=alice,
                           json={"content": "Describe", "attachments": [uploaded["id"]]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["data"]["reply"]["status"] == "complete"

    call = [r for r in fake_vendor.requests if r.method == "POST"][-1]
    assert call.protocol == protocol
    assert call.header_names.count("content-length") == 1
    assert "transfer-encoding" not in call.headers
    first = call.body["messages"][-1]["content"][0]
    encoded = base64.b64encode(stored).decode()
    if protocol == "openai":
        assert first["image_url"]["url"] == f"data:image/png;base64,{encoded}"
    else:
        assert first["source"] == {"type": "base64", "media_type": "image/png", "data": encoded}
