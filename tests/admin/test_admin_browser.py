"""The admin screens in real Chromium: a member limited to the mock model, a vendor key that
never shows again, and the usage chart; a screenshot of every screen."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.admin.conftest import ADMIN_EMAIL
from tests.conftest import PASSWORD
from tests.fakes.vendor_server import DEFAULT_API_KEY

SCREENS = ["/admin/", "/admin/users/", "/admin/roles/", "/admin/keys/", "/admin/vendors/",
           "/admin/models/", "/admin/usage/", "/admin/audit/"]


def _log_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_admin_limits_a_new_member_to_the_mock_model_and_sees_their_usage(
        page: Page, browser: Browser, live_server, make_user, fake_vendor, screenshot):
    make_user(ADMIN_EMAIL, role="admin")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _log_in(page, live_server, ADMIN_EMAIL)

    # A custom role that may use only mock/echo.
    page.goto(live_server + "/admin/roles/")
    page.get_by_label("Name", exact=True).fill("mock-only")
    page.get_by_label("Only the models chosen below").check()
    page.get_by_label("mock/echo").check()
    page.get_by_label("Rate limit").fill("30/minute")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_role("link", name="mock-only")).to_be_visible()
    screenshot("admin-roles")

    # The admin creates a member, then gives them the new role.
    page.goto(live_server + "/admin/users/")
    page.get_by_label("Email", exact=True).fill("newbie@example.com")
    page.get_by_label("Display name").fill("Newbie")
    page.get_by_label("Initial password").fill("newbie's password")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name="Newbie")).to_be_visible()
    page.get_by_label("Role", exact=True).select_option("mock-only")
    page.get_by_role("button", name="Save role").click()
    expect(page.get_by_role("status")).to_contain_text("now has the role mock-only")
    screenshot("admin-user")

    # The admin adds a vendor credential; Test connection lists its models.
    page.goto(live_server + "/admin/vendors/")
    page.get_by_label("Name", exact=True).fill("fake")
    page.get_by_label("Kind").select_option("openai-compatible")
    page.get_by_label("Base URL").fill(fake_vendor.openai_base_url)
    page.get_by_label("API key", exact=True).fill(DEFAULT_API_KEY)
    page.get_by_role("button", name="Add vendor").click()
    expect(page.get_by_role("cell", name="fake", exact=True)).to_be_visible()
    page.get_by_role("row", name="fake").get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("fake answered with 3 models")).to_be_visible()
    screenshot("admin-vendors")

    # The member logs in and may pick only mock/echo; they chat once.
    member = browser.new_page()
    try:
        _log_in(member, live_server, "newbie@example.com", "newbie's password")
        options = member.get_by_label("Model").locator("option").all_inner_texts()
        assert [o.split()[0] for o in options] == ["mock/echo"]
        member.get_by_label("Message").fill("Hello from the limited member")
        member.get_by_role("button", name="Send").click()
        expect(member.locator('article[data-role="assistant"]')).to_contain_text(
            "Hello from the limited member")
    finally:
        member.close()

    # The usage chart shows the member's conversation.
    page.goto(live_server + "/admin/usage/")
    expect(page.get_by_role("cell", name="newbie@example.com")).to_be_visible()
    bars = page.locator("svg.usage-chart rect.bar")
    assert max(int(t) for t in bars.evaluate_all("els => els.map(e => e.dataset.tokens)")) > 0
    screenshot("admin-usage")

    # The vendor key appears on no admin screen; a screenshot of each.
    for path in SCREENS:
        page.goto(live_server + path)
        assert DEFAULT_API_KEY not in page.content(), path
        screenshot("admin-" + (path.strip("/").split("/")[-1] if path != "/admin/" else
                               "dashboard"))
    page.get_by_role("link", name="Vendors").click()
    page.get_by_role("link", name="fake").click()
    assert DEFAULT_API_KEY not in page.content()
    screenshot("admin-vendor")
    assert errors == [], errors  # e.g. no Content-Security-Policy violation
