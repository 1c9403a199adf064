"""Sign-in and a first chat in real Chromium, by accessible names only."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD


def test_member_logs_in_and_chats_with_the_mock_model(page: Page, live_server, make_user):
    make_user("member@example.com")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("member@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("link", name="New chat")).to_be_visible()
    page.get_by_label("Model").select_option("mock/echo")
    page.get_by_label("Message").fill("Hello from the browser")
    page.get_by_role("button", name="Send").click()

    expect(page.locator('article[data-role="user"]')).to_contain_text("Hello from the browser")
    expect(page.locator('article[data-role="assistant"]')).to_contain_text(
        "Hello from the browser")
    assert errors == [], errors  # e.g. no Content-Security-Policy violation


def test_wrong_password_is_reported_inline(page: Page, live_server, make_user):
    make_user("member@example.com")
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("member@example.com")
    page.get_by_label("Password").fill("nope nope nope")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
