"""Attachments through the chat pages (no browser): sent with a message, kept by Regenerate
and Edit, found by search, deleted with the one conversation that used them."""

from __future__ import annotations

import io
import re

from app.extensions import db
from app.models import Attachment
from tests.conftest import csrf_token, log_in
from tests.fakes import files
from tests.web.conftest import finish_replies, stored_messages

CHIP_ID = re.compile(r'data-attachment-id="([^"]+)"')


def upload(client, data: bytes, name: str) -> str:
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post("/attachments", headers={"X-CSRFToken": token},
                           data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert f"Remove {name}" in response.get_data(as_text=True)
    return CHIP_ID.search(response.get_data(as_text=True)).group(1)


def start(client, attachment_ids: list[str], message="") -> str:
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post("/c", data={"csrf_token": token, "model": "mock/echo",
                                       "message": message, "attachments": attachment_ids})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_files_alone_start_a_chat_titled_by_their_names_and_show_as_thumbnails(
        member_client):
    image = upload(member_client, files.png(), "cat.png")
    notes = upload(member_client, b"# Notes\nbuy milk", "notes.md")
    page = finish_replies(member_client, start(member_client, [image, notes]))
    assert "<title>cat.png, notes.md" in page
    assert f'src="/attachments/{image}?thumbnail=1"' in page and 'alt="cat.png"' in page
    assert f'href="/attachments/{image}" target="_blank"' in page  # opens full size
    assert f'href="/attachments/{notes}" download="notes.md"' in page
    assert "Received: image cat.png (image/png" in page  # what the mock model got
    assert "text of notes.md" in page


def test_regenerate_and_edit_keep_the_messages_files(app, member_client):
    image = upload(member_client, files.png(), "cat.png")
    location = start(member_client, [image], "Describe it")
    finish_replies(member_client, location)
    conversation_id = location.rsplit("/", 1)[1]
    token = csrf_token(member_client.get(location).get_data(as_text=True))
    member_client.post(f"/c/{conversation_id}/regenerate", data={"csrf_token": token})
    finish_replies(member_client, location)
    replies = [m for m in stored_messages(app, conversation_id) if m.role == "assistant"]
    assert len(replies) == 2 and all("image cat.png" in r.content for r in replies)

    first = next(m for m in stored_messages(app, conversation_id) if m.role == "user")
    member_client.post(f"/c/{conversation_id}/messages/{first.id}/edit",
                       data={"csrf_token": token, "message": "Describe it again"})
    page = finish_replies(member_client, location)
    latest = stored_messages(app, conversation_id)[-1]
    assert latest.role == "assistant" and "image cat.png" in latest.content
    assert page.count(f'src="/attachments/{image}?thumbnail=1"') == 1  # the edited version shows it


def test_search_finds_a_conversation_by_a_file_name(member_client):
    report = upload(member_client, files.pdf(), "Quarterly-report.pdf")
    finish_replies(member_client, start(member_client, [report], "numbers please"))
    page = member_client.get("/search?q=quarterly").get_data(as_text=True)
    assert "Quarterly-report.pdf" in page


def test_deleting_a_conversation_deletes_the_files_only_it_used(app, member_client):
    shared = upload(member_client, files.png("red"), "shared.png")
    own = upload(member_client, files.png("blue"), "own.png")
    first = start(member_client, [shared, own], "one")
    finish_replies(member_client, first)
    finish_replies(member_client, start(member_client, [shared], "two"))
    token = csrf_token(member_client.get(first).get_data(as_text=True))
    response = member_client.post(first + "/delete", data={"csrf_token": token})
    assert response.status_code in (302, 303)
    with app.app_context():
        assert {a.name for a in db.session.query(Attachment)} == {"shared.png"}
    assert member_client.get(f"/attachments/{own}").status_code == 404
    assert member_client.get(f"/attachments/{shared}").status_code == 200


def test_a_signed_out_visitor_gets_no_file(client, member_client):
    image = upload(member_client, files.png(), "cat.png")
    outsider = client.application.test_client()
    assert outsider.get(f"/attachments/{image}").status_code in (302, 401)


def test_a_file_too_large_for_the_upload_answers_inline(make_app, tmp_path, make_user):
    app = make_app(PARLOR_ATTACHMENT_MAX_BYTES=1000)
    make_user("member@example.com")
    client = app.test_client()
    log_in(client, "member@example.com")
    token = csrf_token(client.get("/").get_data(as_text=True))
    for size, status in ((1001, 413), (200_000, 413)):  # the file limit, the body limit
        response = client.post("/attachments", headers={"X-CSRFToken": token},
                               data={"file": (io.BytesIO(b"a" * size), "big.txt")},
                               content_type="multipart/form-data")
        assert response.status_code == status
        assert 'role="alert"' in response.get_data(as_text=True)
        assert "limit" in response.get_data(as_text=True)


def test_compare_sends_the_files_to_each_model_and_refuses_one_that_takes_no_images(
        app, member_client):
    report = upload(member_client, b"quarterly: 42", "q.txt")
    location = start(member_client, [report], "first")
    finish_replies(member_client, location)
    conversation_id = location.rsplit("/", 1)[1]
    token = csrf_token(member_client.get(location).get_data(as_text=True))
    image = upload(member_client, files.png(), "cat.png")
    refused = member_client.post(f"/c/{conversation_id}/messages", headers={"HX-Request": "true"},
                                 data={"csrf_token": token, "message": "both?",
                                       "intent": "compare", "attachments": [image],
                                       "compare_models": ["mock/echo", "openai/fake-chat"]})
    assert refused.status_code == 422
    assert "openai/fake-chat does not take images" in refused.get_data(as_text=True)
    sent = member_client.post(f"/c/{conversation_id}/messages",
                              data={"csrf_token": token, "message": "both?", "intent": "compare",
                                    "attachments": [report, image],
                                    "compare_models": ["mock/echo", "mock/lorem"]})
    assert sent.status_code in (200, 302)
    finish_replies(member_client, location)
    echo = [m for m in stored_messages(app, conversation_id)
            if m.role == "assistant" and m.model == "mock/echo"][-1]
    assert "image cat.png" in echo.content and "text of q.txt" in echo.content


def test_a_thumbnail_is_a_small_copy_and_the_link_the_full_image(member_client):
    from PIL import Image

    image = upload(member_client, files.png(size=(1200, 600)), "wide.png")
    small = member_client.get(f"/attachments/{image}?thumbnail=1")
    full = member_client.get(f"/attachments/{image}")
    assert small.mimetype == "image/png" and small.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(small.data)).size == (320, 160)
    assert Image.open(io.BytesIO(full.data)).size == (1200, 600)


def test_uploads_count_against_the_chat_send_limit(make_app, make_user):
    app = make_app(PARLOR_RATE_LIMIT="2/minute")
    make_user("member@example.com")
    client = app.test_client()
    log_in(client, "member@example.com")
    token = csrf_token(client.get("/").get_data(as_text=True))
    statuses = [client.post("/attachments", headers={"X-CSRFToken": token},
                            data={"file": (io.BytesIO(f"note {n}".encode()), "n.txt")},
                            content_type="multipart/form-data") for n in range(3)]
    assert [r.status_code for r in statuses] == [201, 201, 429]
    assert "too fast" in statuses[-1].get_data(as_text=True)
    assert "Retry-After" in statuses[-1].headers
