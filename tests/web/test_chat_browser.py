"""The chat in real Chromium: streaming, stop, regenerate, edit, search, export, safety.

Controls are found by their accessible names, as a keyboard or screen-reader user meets them.
"""

from __future__ import annotations

import json
import statistics
import time

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.web.conftest import stored_messages

LONG_MESSAGE = " ".join(f"word{n}" for n in range(30))
REPLY = 'article[data-role="assistant"]'


def _log_in(page: Page, live_server: str, email="member@example.com"):
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="New chat")).to_be_visible()


def _start(page: Page, model: str, text: str):
    page.get_by_label("Model").select_option(model)
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def _last_reply(page: Page):
    return page.locator(REPLY).last


def _replaced_and_complete(page: Page, previous_id: str | None):
    """Wait until the reply ``previous_id`` has been replaced by a finished one."""
    if previous_id:
        expect(page.locator(f'[id="{previous_id}"]')).to_have_count(0)
    expect(_last_reply(page)).not_to_have_attribute("data-status", "pending")


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_reply_streams_in_steps_persists_and_can_be_regenerated_edited_found_and_exported(
        page: Page, live_server, make_user, screenshot):
    make_user("member@example.com")
    errors = _console_errors(page)
    page.goto(live_server + "/login")
    screenshot("login")
    _log_in(page, live_server)
    screenshot("new-chat")

    _start(page, "mock/echo", LONG_MESSAGE)
    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-status", "pending")  # until the final render
    lengths = []
    while reply.get_attribute("data-status") in ("pending", "streaming"):
        text = page.locator(f"{REPLY} .content").last.text_content() or ""
        if text and (not lengths or lengths[-1] != len(text)):
            lengths.append(len(text))
        time.sleep(0.05)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    assert len(lengths) >= 3, lengths  # it grew in several steps before completing
    assert lengths == sorted(lengths)
    expect(_last_reply(page)).to_have_text(f"mock/echo {LONG_MESSAGE} Regenerate")
    screenshot("conversation")

    page.reload()
    expect(_last_reply(page).locator(".content")).to_have_text(LONG_MESSAGE)

    previous = _last_reply(page).get_attribute("id")
    page.get_by_role("button", name="Regenerate").click()
    _replaced_and_complete(page, previous)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    expect(page.locator(REPLY)).to_have_count(1)

    page.locator('article[data-role="user"]').get_by_text("Edit", exact=True).click()
    page.get_by_label("Edit message").fill("Edited question about zeppelins")
    previous = _last_reply(page).get_attribute("id")
    page.get_by_role("button", name="Save and resend").click()
    _replaced_and_complete(page, previous)
    expect(_last_reply(page).locator(".content")).to_have_text("Edited question about zeppelins")

    page.get_by_label("Search conversations").fill("zeppel")
    expect(page.locator("#conversation-list")).to_contain_text("about zeppelins")
    screenshot("search")

    page.get_by_text("Export", exact=True).click()
    with page.expect_download() as markdown:
        page.get_by_role("link", name="Export as Markdown").click()
    assert markdown.value.suggested_filename.endswith(".md")
    assert "Edited question about zeppelins" in open(markdown.value.path()).read()
    with page.expect_download() as document:
        page.get_by_role("link", name="Export as JSON").click()
    exported = json.loads(open(document.value.path()).read())
    # The whole tree: the first reply, its regeneration, the edit and its reply.
    assert [m["role"] for m in exported["messages"]] == [
        "user", "assistant", "assistant", "user", "assistant"]
    assert exported["current_leaf_id"] == exported["messages"][-1]["id"]

    page.goto(live_server + "/settings/")
    page.get_by_label("Key name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("shown only once")).to_be_visible()
    screenshot("settings")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/")
    screenshot("phone-new-chat")
    assert errors == [], errors  # e.g. no Content-Security-Policy violation


def test_stop_ends_the_generation_and_keeps_the_partial_reply(page: Page, live_server, make_user,
                                                              fake_vendor, app, screenshot):
    make_user("member@example.com")
    _log_in(page, live_server)
    _start(page, "openai/slow-stream", "go slowly")
    expect(page.locator(f"{REPLY} .content")).to_contain_text("tick tick")
    page.get_by_role("button", name="Stop").click()

    expect(_last_reply(page)).to_have_attribute("data-status", "stopped")
    expect(_last_reply(page)).to_contain_text("Stopped")
    screenshot("stopped")
    deadline = time.monotonic() + 5
    while "slow-stream" not in fake_vendor.disconnects and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "slow-stream" in fake_vendor.disconnects
    conversation_id = page.url.rsplit("/", 1)[1]
    reply = stored_messages(app, conversation_id)[-1]
    assert reply.status == "stopped" and reply.content.startswith("tick tick")
    expect(_last_reply(page).locator(".content")).to_have_text(reply.content.strip())


def test_xss_payload_in_a_reply_stays_inert(page: Page, live_server, make_user):
    make_user("member@example.com")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _log_in(page, live_server)
    payload = "<img src=x onerror=alert(1)> [x](javascript:alert(1))"
    _start(page, "mock/echo", payload)
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    page.reload()

    expect(_last_reply(page).locator(".content")).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("#messages img").count() == 0
    assert page.locator('#messages a[href^="javascript"]').count() == 0
    assert dialogs == []


def test_vendor_failure_shows_inline_with_retry(page: Page, live_server, make_user, screenshot):
    make_user("member@example.com")
    _log_in(page, live_server)
    _start(page, "openai/error-429", "please answer")
    expect(page.get_by_role("alert")).to_contain_text("rate limiting")
    expect(page.locator('article[data-role="user"]')).to_contain_text("please answer")
    screenshot("vendor-error")
    previous = _last_reply(page).get_attribute("id")
    page.get_by_role("button", name="Retry").click()
    _replaced_and_complete(page, previous)
    expect(_last_reply(page)).to_have_attribute("data-status", "error")


def test_another_users_conversation_url_is_404(page: Page, live_server, make_user, app):
    make_user("member@example.com")
    make_user("other@example.com")
    _log_in(page, live_server)
    _start(page, "mock/echo", "mine")
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    mine = page.url
    page.get_by_role("button", name="Log out").click()
    _log_in(page, live_server, "other@example.com")
    assert page.goto(mine).status == 404


TTFT_PROBE = """() => {
  window.__ttft = null;
  let started = null;
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) started = performance.now();
  }, {capture: true, once: true});
  const observer = new MutationObserver(() => {
    const live = [...document.querySelectorAll("#messages .content.streaming")].pop();
    if (started !== null && live && live.textContent.length > 0) {
      window.__ttft = performance.now() - started;
      observer.disconnect();
    }
  });
  observer.observe(document.getElementById("messages"),
                   {childList: true, subtree: true, characterData: true});
}"""


def test_time_from_enter_to_first_token_against_the_fake_vendor(page: Page, live_server,
                                                                make_user):
    make_user("member@example.com")
    _log_in(page, live_server)
    _start(page, "openai/fake-chat", "warm up")
    expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    samples = []
    for n in range(7):
        page.evaluate(TTFT_PROBE)
        page.get_by_label("Message", exact=True).fill(f"question {n}")
        page.get_by_label("Message", exact=True).press("Enter")
        page.wait_for_function("() => window.__ttft !== null")
        samples.append(page.evaluate("() => window.__ttft"))
        expect(page.locator(REPLY)).to_have_count(n + 2)
        expect(_last_reply(page)).to_have_attribute("data-status", "complete")
    print(f"\nEnter to first token (fake vendor, ms): median {statistics.median(samples):.1f}; "
          f"samples {[round(s, 1) for s in samples]}")
