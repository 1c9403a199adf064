"""In the browser: an admin sets a user's and a key's budget, the member sees both in
settings."""

from __future__ import annotations

from tests.budgets import ADMIN, MEMBER, spend, user_id


def test_admin_sets_budgets_in_the_browser_and_the_member_sees_them_in_settings(
        app, page, live_server, make_key, screenshot):
    from playwright.sync_api import expect

    from tests.admin.test_admin_browser import _log_in

    make_key(ADMIN, role="admin")
    capped = make_key(MEMBER)
    spend(app, MEMBER, 40, capped)
    _log_in(page, live_server, ADMIN)

    page.goto(f"{live_server}/admin/users/{user_id(app, MEMBER)}")
    page.get_by_label("Monthly token budget").fill("5000")
    page.get_by_role("button", name="Save budget").click()
    expect(page.get_by_role("status")).to_contain_text("monthly budget of 5,000 tokens")
    screenshot("admin-user-budget")
    page.get_by_role("link", name=capped.split("-")[0] + "-" + capped.split("-")[1]).click()
    page.get_by_label("Monthly token budget").fill("100")
    page.get_by_role("button", name="Save budget").click()
    expect(page.get_by_role("status")).to_contain_text("may spend 100 tokens a month")
    expect(page.locator("#key-budget")).to_contain_text("40 used through this key")
    screenshot("admin-key-budget")

    page.get_by_role("button", name="Log out").click()
    _log_in(page, live_server, MEMBER)
    page.goto(f"{live_server}/settings/")
    expect(page.locator("#budget-remaining")).to_contain_text("4,960 of 5,000 tokens left")
    expect(page.locator("#budget-source")).to_contain_text("An administrator set this budget")
    expect(page.locator("td.key-budget")).to_have_text("40 of 100")
    screenshot("settings-budgets")
