"""Issue 20 item 5 in the browser: a send the worker sheds (503, app/admission.py) says so
above the message box, in real Chromium, and keeps the typed message for a second try."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.admission import EXTENSION as ADMISSION
from tests.conftest import PASSWORD, eventually, fake_vendor_env
from tests.ops.test_load_shedding import open_slow_stream

BUSY = "Parlor is busy right now; try again in 1 s."
REPLY = 'article[data-role="assistant"]'


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(**fake_vendor_env(fake_vendor, "openai"))


def _send(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def test_a_shed_send_shows_an_inline_busy_message_and_keeps_the_text(
        app, page: Page, live_server, make_user, make_key, screenshot):
    make_user("member@example.com")
    key = make_key()
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("member@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Model").select_option("openai/fake-chat")
    _send(page, "first message")
    expect(page.locator(REPLY).last).to_have_attribute("data-status", "complete")

    # A limit of one request, once the page is loaded (it fetches a few things at once) and the
    # first reply's stream has closed, and one stream held: the worker is full.
    assert eventually(lambda: app.extensions[ADMISSION].held == 0)
    app.extensions[ADMISSION].max_requests = 1
    with open_slow_stream(live_server, key):
        _send(page, "second message")
        error = page.locator("#composer-error")
        expect(error.get_by_role("alert")).to_have_text(BUSY)
        expect(page.get_by_label("Message", exact=True)).to_have_value("second message")
        expect(page.locator(REPLY)).to_have_count(1)
        screenshot("chat-send-shed")

    # the server notices the hang-up at the stream's next word; then there is room again
    assert eventually(lambda: app.extensions[ADMISSION].held == 0)
    page.get_by_label("Message", exact=True).press("Enter")  # the same text, sent again
    expect(page.locator(REPLY)).to_have_count(2)
    expect(page.locator(REPLY).last).to_have_attribute("data-status", "complete")
    expect(page.locator(REPLY).last.locator(".content")).to_have_text("Echo: second message")
    expect(page.locator("#composer-error")).to_be_empty()
