"""Route cache prices in real Chromium: an admin sets a route's cache read and write prices
on the Models screen, sees them in the table, and empties one (then it is the input price)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.admin.conftest import ADMIN_EMAIL
from tests.admin.test_vendors import _add_fake_vendor
from tests.conftest import PASSWORD


def test_admin_sets_and_clears_a_routes_cache_prices(page: Page, live_server, admin_client,
                                                      fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server + "/login")
    page.get_by_label("Email", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.goto(live_server + "/admin/models/")
    page.get_by_label("Public name", exact=True).fill("claude-cached")
    page.get_by_label("Vendor", exact=True).select_option("fake")
    page.get_by_label("Upstream model", exact=True).fill("fake-chat")
    page.get_by_label("Input price per million tokens").fill("3")
    page.get_by_label("Output price per million tokens").fill("15")
    expect(page.get_by_label("Cache read price per million tokens")).to_have_attribute(
        "placeholder", "input price")
    page.get_by_label("Cache read price per million tokens").fill("0.3")
    page.get_by_label("Cache write price per million tokens").fill("3.75")
    page.get_by_role("button", name="Add route").click()
    row = page.get_by_role("row", name="claude-cached")
    expect(row).to_contain_text("0.3000 / 3.7500")

    row.get_by_role("link", name="claude-cached").click()
    write = page.get_by_label("Cache write price per million tokens")
    expect(write).to_have_value("3.7500")
    write.fill("")
    page.get_by_role("button", name="Save route").click()
    page.goto(live_server + "/admin/models/")
    expect(page.get_by_role("row", name="claude-cached")).to_contain_text("0.3000 / in")
    assert errors == [], errors
