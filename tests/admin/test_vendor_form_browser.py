"""The admin vendor form in real Chromium shows the fields of the chosen kind (declared in
app/vendors/registry.py): an Azure OpenAI vendor with its endpoint and API version is added
through it, answers Test connection and shows its API version back."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.admin.conftest import ADMIN_EMAIL
from tests.conftest import PASSWORD
from tests.fakes.vendor_server import DEFAULT_API_KEY


def _log_in(page: Page, base: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email", exact=True).fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_the_form_shows_the_chosen_kinds_fields_and_adds_an_azure_vendor(
        page: Page, live_server, make_user, fake_vendor, screenshot):
    make_user(ADMIN_EMAIL, role="admin")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _log_in(page, live_server)
    page.goto(live_server + "/admin/vendors/")

    kind = page.get_by_label("Kind")
    kind.select_option("openai")
    expect(page.get_by_label("API version")).to_be_hidden()
    expect(page.get_by_label("API key", exact=True)).to_be_visible()

    kind.select_option("azure")
    expect(page.get_by_label("API version")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("azure-east")
    page.get_by_label("Base URL").fill(fake_vendor.url)
    page.get_by_label("API key", exact=True).fill(DEFAULT_API_KEY)
    page.get_by_label("API version").fill("2025-03-01-preview")
    screenshot("admin-vendor-azure-form")
    page.get_by_role("button", name="Add vendor").click()

    expect(page.get_by_role("cell", name="azure-east", exact=True)).to_be_visible()
    page.get_by_role("row", name="azure-east").get_by_role(
        "button", name="Test connection").click()
    expect(page.get_by_text("azure-east answered with 3 models")).to_be_visible()
    sent = fake_vendor.last_request
    assert sent.path == "/openai/models" and sent.query["api-version"] == ["2025-03-01-preview"]

    page.get_by_role("link", name="azure-east").click()
    expect(page.locator("dl.facts")).to_contain_text("2025-03-01-preview")
    expect(page.get_by_label("API version")).to_have_value("2025-03-01-preview")
    assert DEFAULT_API_KEY not in page.content()
    assert errors == [], errors  # no Content-Security-Policy violation


def test_a_missing_required_field_is_shown_next_to_it(page: Page, live_server, make_user):
    make_user(ADMIN_EMAIL, role="admin")
    _log_in(page, live_server)
    page.goto(live_server + "/admin/vendors/")
    page.get_by_label("Kind").select_option("azure")
    page.get_by_label("Name", exact=True).fill("azure-west")
    page.get_by_label("API key", exact=True).fill(DEFAULT_API_KEY)
    page.get_by_role("button", name="Add vendor").click()
    expect(page.get_by_role("alert")).to_contain_text("needs its base URL")
    expect(page.get_by_label("API version")).to_be_visible()  # the kind chosen stays chosen


def test_an_aws_bedrock_vendor_takes_its_key_pair_and_never_shows_the_secret(
        page: Page, live_server, make_user, fake_vendor, screenshot):
    from tests.fakes.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY

    make_user(ADMIN_EMAIL, role="admin")
    _log_in(page, live_server)
    page.goto(live_server + "/admin/vendors/")
    page.get_by_label("Kind").select_option("bedrock")
    expect(page.get_by_label("API key", exact=True)).to_be_hidden()
    expect(page.get_by_label("API version")).to_be_hidden()
    page.get_by_label("Name", exact=True).fill("aws")
    page.get_by_label("Base URL").fill(fake_vendor.url)
    page.get_by_label("AWS region").fill("eu-west-1")
    page.get_by_label("AWS access key ID").fill(ACCESS_KEY_ID)
    page.get_by_label("AWS secret access key").fill(SECRET_ACCESS_KEY)
    screenshot("admin-vendor-bedrock-form")
    page.get_by_role("button", name="Add vendor").click()

    page.get_by_role("row", name="aws").get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("aws answered with 3 models")).to_be_visible()  # signed right
    page.get_by_role("link", name="aws").click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("eu-west-1")
    expect(facts).to_contain_text(SECRET_ACCESS_KEY[-4:])  # the mask
    assert SECRET_ACCESS_KEY not in page.content()
    expect(page.get_by_label("AWS secret access key")).to_have_value("")

    # Saving the form with the secret left empty keeps it: the vendor still answers.
    page.get_by_label("AWS region").fill("eu-west-2")
    page.get_by_role("button", name="Save vendor").click()
    expect(page.get_by_role("status")).to_contain_text("Saved the vendor aws")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("aws answered with 3 models")).to_be_visible()
    assert "/eu-west-2/bedrock/" in fake_vendor.last_request.headers["authorization"]
