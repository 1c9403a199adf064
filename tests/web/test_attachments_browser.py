"""Attachments in real Chromium: picked, pasted and dropped files become chips, one is
removed, the rest reach the fake vendor in each vendor's own format (through the real SDKs),
show after a reload and are in the exports."""

from __future__ import annotations

import base64
import json

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services import vendor_credentials
from tests.conftest import PASSWORD, fake_vendor_env
from tests.fakes import files

USER = 'article[data-role="user"]'
REPLY = 'article[data-role="assistant"]'


@pytest.fixture
def app(make_app, fake_vendor):
    """Both vendor kinds on the fake vendor: a Claude-like route that takes images and PDFs,
    an OpenAI-compatible one that takes images but no PDF."""
    app = make_app(PARLOR_MOCK_DELAY_MS=0, **fake_vendor_env(fake_vendor, "openai", "anthropic"))
    with app.app_context():
        vendor_credentials.ensure_environment_credentials()
        ids = dict(db.session.execute(select(VendorCredential.name, VendorCredential.id)).all())
        db.session.add_all([
            ModelRoute(public_name="vision-claude", credential_id=ids["anthropic"],
                       upstream_model="fake-chat", capabilities=["images", "pdf"]),
            ModelRoute(public_name="vision-openai", credential_id=ids["openai"],
                       upstream_model="fake-chat", capabilities=["images"]),
        ])
        db.session.commit()
    return app


def _log_in(page: Page, live_server: str):
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("member@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="New chat")).to_be_visible()


def _paste(page: Page, name: str, data: bytes, mime: str):
    page.evaluate("""([name, b64, mime]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: mime}));
        document.getElementById("message").dispatchEvent(new ClipboardEvent("paste",
            {clipboardData: transfer, bubbles: true, cancelable: true}));
    }""", [name, base64.b64encode(data).decode(), mime])


def _drop(page: Page, name: str, data: bytes, mime: str):
    page.evaluate("""([name, b64, mime]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: mime}));
        const target = document.querySelector(".chat .messages");
        for (const kind of ["dragover", "drop"]) {
            target.dispatchEvent(new DragEvent(kind,
                {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""", [name, base64.b64encode(data).decode(), mime])


def _chips(page: Page):
    return page.locator("#pending-attachments li[data-attachment-id]")


def _last_vendor_call(fake_vendor, protocol: str):
    calls = [r for r in fake_vendor.requests if r.method == "POST" and r.protocol == protocol]
    assert calls, [r.path for r in fake_vendor.requests]
    return calls[-1].body


def test_picked_pasted_and_dropped_files_reach_claude_as_image_and_document_blocks(
        page: Page, live_server, make_user, fake_vendor, screenshot):
    make_user("member@example.com")
    _log_in(page, live_server)
    page.get_by_label("Model").select_option("vision-claude")
    page.get_by_label("Attach files").set_input_files(
        {"name": "cat.png", "mimeType": "image/png", "buffer": files.png("red")})
    _paste(page, "second.png", files.png("green"), "image/png")
    _drop(page, "report.pdf", files.pdf("Quarterly figures: 42 widgets"), "application/pdf")
    expect(_chips(page)).to_have_count(3)
    screenshot("attachments-pending")
    page.get_by_role("button", name="Remove second.png").click()
    expect(_chips(page)).to_have_count(2)
    page.get_by_label("Message", exact=True).fill("What is in these?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(REPLY).last).to_have_attribute("data-status", "complete")

    body = _last_vendor_call(fake_vendor, "anthropic")
    blocks = body["messages"][-1]["content"]
    kinds = [b["type"] for b in blocks]
    assert kinds == ["image", "document", "text"], blocks
    assert blocks[0]["source"]["type"] == "base64"
    assert blocks[0]["source"]["media_type"] == "image/png"
    assert base64.b64decode(blocks[0]["source"]["data"]).startswith(b"\x89PNG")
    assert blocks[1]["source"]["media_type"] == "application/pdf"
    assert blocks[1]["title"] == "report.pdf"
    assert "second.png" not in json.dumps(body)  # the removed one never went

    page.reload()
    message = page.locator(USER).last
    expect(message.locator("img.thumb")).to_have_count(1)
    expect(message.get_by_role("img", name="cat.png")).to_be_visible()
    assert page.evaluate("document.querySelector('article img.thumb').naturalWidth") == 16
    expect(message.get_by_role("link", name="report.pdf")).to_be_visible()
    screenshot("attachments-sent")

    url = page.url.split("#")[0]
    exported = json.loads(page.request.get(url + "/export.json").text())
    sent = next(m for m in exported["messages"] if m["role"] == "user")
    assert [a["name"] for a in sent["attachments"]] == ["cat.png", "report.pdf"]
    assert base64.b64decode(sent["attachments"][0]["data"]).startswith(b"\x89PNG")
    listed = json.loads(page.request.get(url + "/export.json?attachments=list").text())
    assert "data" not in next(m for m in listed["messages"] if m["role"] == "user")[
        "attachments"][0]
    markdown = page.request.get(url + "/export.md").text()
    assert "cat.png" in markdown and "report.pdf" in markdown


def test_an_openai_compatible_model_gets_an_image_url_part_and_the_pdf_as_text(
        page: Page, live_server, make_user, fake_vendor):
    make_user("member@example.com")
    _log_in(page, live_server)
    page.get_by_label("Model").select_option("vision-openai")
    page.get_by_label("Attach files").set_input_files([
        {"name": "cat.png", "mimeType": "image/png", "buffer": files.png("red")},
        {"name": "report.pdf", "mimeType": "application/pdf",
         "buffer": files.pdf("Quarterly figures: 42 widgets")}])
    expect(_chips(page)).to_have_count(2)
    page.get_by_label("Message", exact=True).press("Enter")  # files alone: no text needed
    expect(page.locator(REPLY).last).to_have_attribute("data-status", "complete")

    body = _last_vendor_call(fake_vendor, "openai")
    parts = body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["image_url", "text"], parts
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "report.pdf" in parts[1]["text"]
    assert "--- Page 1 ---" in parts[1]["text"] and "42 widgets" in parts[1]["text"]

    # In the open conversation the composer posts with htmx: the sent files leave the
    # composer and show in the new message at once.
    page.get_by_label("Attach files").set_input_files(
        {"name": "dog.png", "mimeType": "image/png", "buffer": files.png("blue")})
    expect(_chips(page)).to_have_count(1)
    page.get_by_label("Message", exact=True).fill("And this one?")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator(USER).last.get_by_role("img", name="dog.png")).to_be_visible()
    expect(_chips(page)).to_have_count(0)
    expect(page.locator(REPLY).last).to_have_attribute("data-status", "complete")
    later = _last_vendor_call(fake_vendor, "openai")["messages"]
    assert [p["type"] for p in later[-1]["content"]] == ["image_url", "text"]
    assert [p["type"] for p in later[0]["content"]] == ["image_url", "text"]  # still sent


def test_a_model_that_takes_no_images_is_refused_before_sending_naming_those_that_do(
        page: Page, live_server, make_user, fake_vendor):
    make_user("member@example.com")
    _log_in(page, live_server)
    page.get_by_label("Model").select_option("openai/fake-chat")
    page.get_by_label("Attach files").set_input_files(
        {"name": "cat.png", "mimeType": "image/png", "buffer": files.png()})
    expect(_chips(page)).to_have_count(1)
    page.get_by_label("Message", exact=True).fill("Look")
    page.get_by_role("button", name="Send", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("does not take images")
    expect(alert).to_contain_text("vision-claude")
    expect(_chips(page)).to_have_count(1)  # the page came back with the file still attached
    assert not [r for r in fake_vendor.requests if r.method == "POST"]


def test_an_upload_refused_shows_why_inline(page: Page, live_server, make_user):
    make_user("member@example.com")
    _log_in(page, live_server)
    page.get_by_label("Attach files").set_input_files(
        {"name": "fake.png", "mimeType": "image/png", "buffer": b"<html>not a picture</html>"})
    expect(page.locator("#attach-status [role=alert]")).to_contain_text("is not")
    expect(_chips(page)).to_have_count(0)
