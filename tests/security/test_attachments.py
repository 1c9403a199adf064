"""Uploaded files (case 4) and their ids (case 5): the type comes from the bytes, images lose
their metadata and may not be bombs, nothing is ever served as a page, limits store nothing
partial, and another user's attachment id is a 404 everywhere."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Page

from app.extensions import db
from app.models import Attachment
from tests.conftest import PASSWORD, bearer, csrf_token, log_in
from tests.fakes import files

ROOT = Path(__file__).resolve().parents[2]
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.parent.pwned=1">'
       b'<script>window.parent.pwned=1; alert(1)</script></svg>')


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(PARLOR_ATTACHMENTS_DIR=tmp_path / "files",
                    PARLOR_ATTACHMENT_MAX_BYTES=100_000, PARLOR_ATTACHMENT_QUOTA_BYTES=150_000)


@pytest.fixture
def alice(make_key) -> dict:
    return bearer(make_key("alice@example.com"))


@pytest.fixture
def bob(make_key) -> dict:
    return bearer(make_key("bob@example.com"))


def upload(client, headers, data: bytes, name: str, content_type="application/octet-stream"):
    return client.post("/api/v1/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), name, content_type)},
                       content_type="multipart/form-data")


def stored_rows(app) -> int:
    with app.app_context():
        return db.session.query(Attachment).count()


def stored_files(app) -> list[Path]:
    return [p for p in Path(app.config["PARLOR_ATTACHMENTS_DIR"]).rglob("*") if p.is_file()]


def test_html_claiming_to_be_a_png_is_refused_and_nothing_is_stored(app, client, alice):
    response = upload(client, alice, b"<html><script>alert(1)</script></html>", "cat.png",
                      "image/png")
    assert response.status_code == 400
    assert "image/png" in response.get_json()["error"]["message"]
    assert stored_rows(app) == 0 and stored_files(app) == []


def test_an_svg_is_stored_as_text_and_served_as_a_sandboxed_plain_text_download(
        app, client, alice):
    sent = upload(client, alice, SVG, "logo.svg", "image/svg+xml").get_json()["data"]
    assert sent["type"] == "text/plain"
    served = client.get(f"/api/v1/attachments/{sent['id']}/content", headers=alice)
    assert served.headers["Content-Type"].startswith("text/plain")
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_an_svg_with_script_never_runs_in_the_browser(app, page: Page, live_server, make_user):
    make_user("member@example.com")
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("member@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    token = page.locator("#composer input[name=csrf_token]").get_attribute("value")
    chip = page.request.post(live_server + "/attachments", headers={"X-CSRFToken": token},
                             multipart={"file": {"name": "logo.svg", "mimeType": "image/svg+xml",
                                                 "buffer": SVG}})
    assert chip.status == 201
    attachment_id = chip.text().split('data-attachment-id="')[1].split('"')[0]
    url = f"{live_server}/attachments/{attachment_id}"
    page.evaluate("""url => new Promise(done => {
        for (const tag of ["iframe", "object", "embed", "img"]) {
            const element = document.createElement(tag);
            element[tag === "object" ? "data" : "src"] = url;
            document.body.appendChild(element);
        }
        setTimeout(done, 1000);
    })""", url)
    assert page.evaluate("window.pwned") is None
    assert dialogs == []


def test_exif_gps_is_gone_from_the_stored_image(app, client, alice):
    original = files.jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    sent = upload(client, alice, original, "holiday.jpg").get_json()["data"]
    on_disk = stored_files(app)
    assert len(on_disk) == 1
    for data in (on_disk[0].read_bytes(), client.get(
            f"/api/v1/attachments/{sent['id']}/content", headers=alice).data):
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG" and image.size == (32, 32)
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert b"SpyCam" not in data


def test_a_20000_by_20000_pixel_bomb_is_refused_with_a_clear_message(app, client, alice):
    response = upload(client, alice, files.png_bomb(), "bomb.png", "image/png")
    assert response.status_code == 400
    assert "too large" in response.get_json()["error"]["message"]
    assert stored_rows(app) == 0


def test_checking_a_bomb_never_decodes_its_pixels():
    """In a process of its own, so its peak memory is the check's (400 MB if decoded)."""
    script = ("import resource; from tests.fakes import files; "
              "from app.services.attachment_content import check, ContentError\n"
              "bomb = files.png_bomb()\nbase = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "try:\n    check(bomb, 'bomb.png')\nexcept ContentError as exc:\n    print(exc)\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout.splitlines()
    assert "too large" in out[0]
    assert int(out[-1]) < 50 * 1024  # KiB of peak memory the check added


def test_a_file_over_the_size_limit_answers_413_and_stores_nothing(app, client, alice):
    response = upload(client, alice, b"a" * 100_001, "big.txt", "text/plain")
    assert response.status_code == 413
    assert "larger than the limit" in response.get_json()["error"]["message"]
    assert stored_rows(app) == 0 and stored_files(app) == []
    huge = upload(client, alice, b"a" * 300_000, "huge.txt", "text/plain")  # past the body limit
    assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "request_too_large"
    assert stored_rows(app) == 0 and stored_files(app) == []


def test_going_past_the_quota_answers_413_naming_it_and_stores_nothing(app, client, alice):
    assert upload(client, alice, b"a" * 90_000, "one.txt").status_code == 201
    response = upload(client, alice, b"b" * 90_000, "two.txt")
    assert response.status_code == 413
    assert "quota" in response.get_json()["error"]["message"]
    assert stored_rows(app) == 1 and len(stored_files(app)) == 1
    assert upload(client, alice, b"a" * 90_000, "again.txt").status_code == 201  # same content


def test_a_path_in_the_file_name_is_metadata_only(app, client, alice):
    sent = upload(client, alice, b"print(1)", "../../app/static/x.js").get_json()["data"]
    assert sent["name"] == "x.js"
    root = Path(app.config["PARLOR_ATTACHMENTS_DIR"]).resolve()
    assert [p.resolve().is_relative_to(root) for p in stored_files(app)] == [True]
    assert not (ROOT / "app" / "static" / "x.js").exists()


def test_another_users_attachment_id_is_a_404_on_every_route(app, client, make_user, alice,
                                                              bob):
    theirs = upload(client, alice, files.png(), "cat.png").get_json()["data"]["id"]
    assert client.get(f"/api/v1/attachments/{theirs}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/attachments/{theirs}/content",
                      headers=bob).status_code == 404
    conversation = client.post("/api/v1/conversations", headers=bob,
                               json={"model": "mock/echo"}).get_json()["data"]["id"]
    sent = client.post(f"/api/v1/conversations/{conversation}/messages", headers=bob,
                       json={"content": "hi", "attachments": [theirs]})
    assert sent.status_code == 404
    detail = client.get(f"/api/v1/conversations/{conversation}", headers=bob).get_json()
    assert detail["data"]["messages"] == []  # no side effect
    log_in(client, "bob@example.com")
    assert client.get(f"/attachments/{theirs}").status_code == 404
    page = client.get("/").get_data(as_text=True)
    refused = client.post("/c", data={"csrf_token": csrf_token(page), "model": "mock/echo",
                                      "message": "hi", "attachments": theirs})
    assert refused.status_code in (400, 404)
    assert "no attachment" in refused.get_data(as_text=True)
    assert json.dumps(client.get("/api/v1/conversations",
                                 headers=bob).get_json()).count(theirs) == 0


def test_a_web_upload_without_the_csrf_token_is_refused(app, client, make_user):
    make_user("member@example.com")
    log_in(client, "member@example.com")
    response = client.post("/attachments", data={"file": (io.BytesIO(b"hi"), "a.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert stored_rows(app) == 0


def test_deleting_a_user_deletes_their_files_on_disk(app, client, alice):
    from app.repositories import accounts as accounts_repo
    from app.services import admin_users
    from app.services.actor import SYSTEM

    upload(client, alice, files.png(), "cat.png")
    assert len(stored_files(app)) == 1
    with app.app_context():
        admin_users.delete(SYSTEM, accounts_repo.user_by_email("alice@example.com"))
    assert stored_rows(app) == 0 and stored_files(app) == []
