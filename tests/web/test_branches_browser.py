"""Branches, Compare and Options in real Chromium, found by their accessible names: edit an
earlier message and go back with Previous version; compare two models, pick one with Use this
reply and continue; Options change what the fake vendor receives."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import stored_messages
from tests.web.test_chat_browser import REPLY, _console_errors, _log_in, _start

USER = 'article[data-role="user"]'


def _send(page: Page, text: str):
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


def _settled(page: Page, replies: int):
    """Wait until ``replies`` replies are shown and none is still being written."""
    expect(page.locator(REPLY)).to_have_count(replies)
    expect(page.locator(f'{REPLY}[aria-busy="true"]')).to_have_count(0)


def test_edit_an_earlier_message_and_go_back_to_the_old_branch(page: Page, live_server,
                                                                make_user, screenshot):
    make_user("member@example.com")
    errors = _console_errors(page)
    _log_in(page, live_server)
    _start(page, "mock/echo", "first question")
    _settled(page, 1)
    _send(page, "second question")
    _settled(page, 2)

    first = page.locator(USER).first
    first.get_by_text("Edit", exact=True).click()
    first.get_by_label("Edit message").fill("changed question")
    first.get_by_role("button", name="Save and resend").click()
    _settled(page, 1)
    expect(page.locator(USER)).to_have_count(1)
    expect(page.locator(USER).locator(".content")).to_have_text("changed question")
    expect(page.get_by_text("2 / 2")).to_be_visible()
    expect(page.get_by_role("button", name="Next version")).to_be_disabled()
    screenshot("branch-edited")
    page.reload()  # a fresh page after the screenshot (see below)

    page.get_by_role("button", name="Previous version").click()
    expect(page.get_by_text("1 / 2")).to_be_visible()
    expect(page.locator(USER)).to_have_count(2)  # the old branch, intact
    expect(page.locator(f"{USER} .content")).to_have_text(["first question", "second question"])
    expect(page.locator(f"{REPLY} .content")).to_have_text(["first question",
                                                             "second question"])
    page.reload()  # the conversation remembers the branch shown
    expect(page.locator(f"{USER} .content")).to_have_text(["first question", "second question"])

    page.get_by_role("button", name="Next version").click()
    expect(page.locator(f"{USER} .content")).to_have_text(["changed question"])
    assert errors == [], errors


def test_compare_two_models_use_one_reply_and_continue(page: Page, live_server, make_user, app,
                                                       screenshot):
    make_user("member@example.com")
    errors = _console_errors(page)
    page.on("console", lambda msg: print("CONSOLE", msg.type, msg.text[:80], msg.location))
    _log_in(page, live_server)
    _start(page, "mock/echo", "hello")
    _settled(page, 1)

    page.get_by_text("Side by side", exact=True).click()
    page.get_by_label("mock/echo", exact=True).check()
    page.get_by_label("mock/lorem", exact=True).check()
    page.get_by_label("Message", exact=True).fill("compare this")
    page.get_by_role("button", name="Compare", exact=True).click()

    columns = page.locator(".compare .choice")
    expect(columns).to_have_count(2)
    expect(columns.nth(0).locator("header")).to_contain_text("mock/echo")
    expect(columns.nth(1).locator("header")).to_contain_text("mock/lorem")
    expect(page.locator(f'.compare {REPLY}[aria-busy="true"]')).to_have_count(0)
    expect(columns.nth(0).locator(".content")).to_have_text("compare this")
    screenshot("compare")  # (it leaves style="" on inputs, which htmx's settle would copy)
    page.reload()  # the choice waits, stored with the conversation
    expect(columns).to_have_count(2)

    columns.nth(1).get_by_role("button", name="Use this reply").click()
    expect(page.locator(".compare")).to_have_count(0)
    expect(page.get_by_role("button", name="Use this reply")).to_have_count(0)
    expect(page.get_by_text("2 / 2")).to_be_visible()
    expect(page.locator(REPLY).last.locator("header")).to_contain_text("mock/lorem")

    _send(page, "and now?")
    _settled(page, 3)
    conversation_id = page.url.rsplit("/", 1)[1].split("#")[0]
    stored = stored_messages(app, conversation_id)
    lorem = next(m for m in stored if m.model == "mock/lorem")
    follow_up = next(m for m in stored if m.content == "and now?")
    assert follow_up.parent_id == lorem.id
    expect(page.locator(REPLY).last.locator(".content")).to_have_text("and now?")
    assert errors == [], errors


def test_options_change_what_the_vendor_receives(page: Page, live_server, make_user,
                                                 fake_vendor):
    fake_vendor.models = [*fake_vendor.models, "deep-reasoning"]  # takes a reasoning effort
    make_user("member@example.com")
    _log_in(page, live_server)
    _start(page, "openai/deep-reasoning", "defaults first")
    _settled(page, 1)
    first = [r.body for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1]
    assert "temperature" not in first and "reasoning_effort" not in first

    page.get_by_text("Options", exact=True).click()
    page.get_by_label("System prompt").fill("Answer in French.")
    page.get_by_label("Temperature").fill("0.2")
    page.get_by_label("Max tokens").fill("42")
    page.get_by_label("Reasoning effort").select_option("high")
    _send(page, "with options")
    _settled(page, 2)
    sent = [r.body for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1]
    assert sent["messages"][0] == {"role": "system", "content": "Answer in French."}
    assert (sent["temperature"], sent["reasoning_effort"]) == (0.2, "high")
    assert sent.get("max_completion_tokens", sent.get("max_tokens")) == 42

    page.reload()  # stored with the conversation
    page.get_by_text("Options", exact=True).click()
    expect(page.get_by_label("Temperature")).to_have_value("0.2")
    expect(page.get_by_label("Reasoning effort")).to_have_value("high")
