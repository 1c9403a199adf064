"""Resumable replies in real Chromium: a reload mid-stream goes on from where the reply was, a
second tab shows the same reply growing, and an interrupted reply offers Continue and
Regenerate."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import stored_messages
from tests.web.test_chat_browser import REPLY, _log_in, _start
from tests.web.test_durable_replies import _conversation_with_a_dead_writer, _user_id

WHOLE_REPLY = ("tick " * 500).strip()


def _reply_text_length(page: Page) -> int:
    return len(page.locator(f"{REPLY} .content").last.inner_text())


def test_reload_mid_stream_goes_on_from_where_the_reply_was(page: Page, live_server, make_user,
                                                            fake_vendor, app, screenshot):
    fake_vendor.chunk_delay = 0.02  # 500 words: 10 s
    make_user("member@example.com")
    _log_in(page, live_server)
    _start(page, "openai/slow-stream", "go")
    expect(page.locator(f"{REPLY} .content")).to_contain_text("tick tick tick tick")

    page.reload()
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "streaming")  # still live after the reload
    expect(reply.locator(".content")).to_contain_text("tick tick")
    before = _reply_text_length(page)
    page.wait_for_timeout(1000)
    assert _reply_text_length(page) > before  # growing, not frozen at the saved text
    screenshot("reloaded-mid-stream")

    expect(reply).to_have_attribute("data-status", "complete", timeout=20_000)
    expect(page.locator(REPLY).last.locator(".content")).to_have_text(WHOLE_REPLY)
    stored = stored_messages(app, page.url.rsplit("/", 1)[1])[-1]
    assert (stored.status, stored.content) == ("complete", "tick " * 500)
    assert len(fake_vendor.requests_for("slow-stream")) == 1  # one generation, followed twice


def test_a_second_tab_opened_mid_stream_shows_the_same_reply_growing(page: Page, live_server,
                                                                    make_user, fake_vendor):
    fake_vendor.chunk_delay = 0.02
    make_user("member@example.com")
    _log_in(page, live_server)
    _start(page, "openai/slow-stream", "go")
    expect(page.locator(f"{REPLY} .content")).to_contain_text("tick tick tick")
    page.wait_for_url("**/c/*")

    second = page.context.new_page()
    second.goto(page.url)
    expect(second.locator(REPLY).last).to_have_attribute("data-status", "streaming")
    expect(second.locator(f"{REPLY} .content")).to_contain_text("tick")
    before = _reply_text_length(second)
    second.wait_for_timeout(1000)
    assert _reply_text_length(second) > before

    for tab in (page, second):
        expect(tab.locator(REPLY).last).to_have_attribute("data-status", "complete",
                                                          timeout=20_000)
        expect(tab.locator(REPLY).last.locator(".content")).to_have_text(WHOLE_REPLY)
    assert len(fake_vendor.requests_for("slow-stream")) == 1


def test_an_interrupted_reply_offers_continue_which_appends_to_it(page: Page, live_server,
                                                                 make_user, app, fake_vendor,
                                                                 screenshot):
    make_user("member@example.com")
    conversation_id, reply_id = _conversation_with_a_dead_writer(
        app, _user_id(app), "Once upon a time")
    _log_in(page, live_server)
    page.goto(f"{live_server}/c/{conversation_id}")
    reply = page.locator(f'[id="m-{reply_id}"]')
    expect(reply).to_have_attribute("data-status", "interrupted")
    expect(reply).to_contain_text("Interrupted")
    expect(reply.get_by_role("button", name="Regenerate")).to_be_visible()
    screenshot("interrupted")

    reply.get_by_role("button", name="Continue").click()

    reply = page.locator(f'[id="m-{reply_id}"]')
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator(".content")).to_contain_text(
        "Once upon a timeEcho: Continue your previous reply")
    expect(reply.get_by_role("button", name="Continue")).to_have_count(0)
    assert fake_vendor.last_request.body["messages"][-2]["content"] == "Once upon a time"
