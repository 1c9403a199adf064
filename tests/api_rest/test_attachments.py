"""/api/v1/attachments: upload, details, download, and messages that carry attachments."""

from __future__ import annotations

import io

import pytest

from app.extensions import db
from app.models import Attachment
from tests.fakes import files


def upload(client, headers, data: bytes, name: str, content_type: str = "application/octet-stream"):
    return client.post("/api/v1/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), name, content_type)},
                       content_type="multipart/form-data")


def new_conversation(client, headers, model="mock/echo") -> str:
    response = client.post("/api/v1/conversations", headers=headers, json={"model": model})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]["id"]


def test_upload_answers_id_name_type_and_size_from_the_bytes(client, alice):
    response = upload(client, alice, files.png(), "photo.txt", "text/plain")
    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    assert set(data) == {"id", "name", "type", "size"}
    assert data["name"] == "photo.txt" and data["type"] == "image/png" and data["size"] > 0


def test_the_same_content_is_stored_once_per_owner(app, client, alice, bob):
    first = upload(client, alice, files.pdf(), "a.pdf").get_json()["data"]
    again = upload(client, alice, files.pdf(), "b.pdf").get_json()["data"]
    other = upload(client, bob, files.pdf(), "a.pdf").get_json()["data"]
    assert again["id"] == first["id"] and other["id"] != first["id"]
    with app.app_context():
        assert db.session.query(Attachment).count() == 2


def test_a_message_with_an_image_alone_reaches_the_model_and_lists_it(client, alice):
    conversation = new_conversation(client, alice)
    image = upload(client, alice, files.png(), "cat.png").get_json()["data"]
    response = client.post(f"/api/v1/conversations/{conversation}/messages", headers=alice,
                           json={"attachments": [image["id"]]})
    assert response.status_code == 201, response.get_json()
    sent = response.get_json()["data"]
    assert sent["message"]["attachments"] == [image]
    assert "cat.png" in sent["reply"]["content"] and "image/png" in sent["reply"]["content"]
    detail = client.get(f"/api/v1/conversations/{conversation}", headers=alice).get_json()
    assert detail["data"]["messages"][0]["attachments"] == [image]


def test_a_message_needs_text_or_an_attachment(client, alice):
    conversation = new_conversation(client, alice)
    response = client.post(f"/api/v1/conversations/{conversation}/messages", headers=alice,
                           json={"content": "  "})
    assert response.status_code == 400
    assert "attach" in response.get_json()["error"]["message"]


def test_an_unknown_attachment_id_is_refused_before_anything_is_stored(client, alice):
    conversation = new_conversation(client, alice)
    response = client.post(f"/api/v1/conversations/{conversation}/messages", headers=alice,
                           json={"content": "hi", "attachments": ["nope"]})
    assert response.status_code == 404
    assert "nope" in response.get_json()["error"]["message"]
    detail = client.get(f"/api/v1/conversations/{conversation}", headers=alice).get_json()
    assert detail["data"]["messages"] == []


def test_download_serves_an_image_inline_and_a_text_file_as_a_sandboxed_download(client, alice):
    image = upload(client, alice, files.png(), "cat.png").get_json()["data"]
    page = upload(client, alice, b"<html><script>alert(1)</script></html>", "x.html",
                  "text/html").get_json()["data"]
    shown = client.get(f"/api/v1/attachments/{image['id']}/content", headers=alice)
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert shown.data.startswith(b"\x89PNG")
    saved = client.get(f"/api/v1/attachments/{page['id']}/content", headers=alice)
    assert saved.mimetype == "text/plain" and page["type"] == "text/plain"
    assert saved.headers["Content-Disposition"].startswith("attachment")
    assert saved.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in saved.headers["Content-Security-Policy"]


def test_a_session_upload_needs_the_csrf_header(session_client):
    client, token = session_client
    refused = client.post("/api/v1/attachments", data={"file": (io.BytesIO(b"hi"), "a.txt")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    accepted = client.post("/api/v1/attachments", headers={"X-CSRFToken": token},
                           data={"file": (io.BytesIO(b"hi"), "a.txt")},
                           content_type="multipart/form-data")
    assert accepted.status_code == 201, accepted.get_json()


def test_an_upload_larger_than_the_api_body_limit_but_within_the_file_limit_is_taken(
        client, alice):
    big = b"x" * (200 * 1024)  # the API's body limit is 64 KiB in these tests
    response = upload(client, alice, big, "big.txt", "text/plain")
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("payload", [b"", None])
def test_an_upload_without_a_file_is_a_clear_400(client, alice, payload):
    data = {} if payload is None else {"file": (io.BytesIO(payload), "empty.txt")}
    response = client.post("/api/v1/attachments", headers=alice, data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "file" in response.get_json()["error"]["message"].lower()


def test_uploads_never_sent_are_deleted_after_a_day_but_sent_ones_stay(app, client, alice):
    from datetime import UTC, datetime, timedelta

    conversation = new_conversation(client, alice)
    sent = upload(client, alice, files.png("red"), "sent.png").get_json()["data"]["id"]
    client.post(f"/api/v1/conversations/{conversation}/messages", headers=alice,
                json={"attachments": [sent]})
    unsent = upload(client, alice, files.png("blue"), "unsent.png").get_json()["data"]["id"]
    fresh = upload(client, alice, files.png("green"), "fresh.png").get_json()["data"]["id"]
    with app.app_context():
        for attachment in db.session.query(Attachment).filter(Attachment.id != fresh):
            attachment.created_at = datetime.now(UTC) - timedelta(days=2)
        db.session.commit()
    upload(client, alice, b"next", "next.txt")
    with app.app_context():
        kept = {a.id for a in db.session.query(Attachment)}
    assert sent in kept and fresh in kept and unsent not in kept
