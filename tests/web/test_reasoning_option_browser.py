"""The Options panel offers a reasoning effort only for a model that takes one, in real
Chromium: it appears and goes as the Model select changes (htmx swaps it), keeps the value
picked, and only a reasoning model's request to the fake vendor carries it. A thinking
budget for Anthropic thinking models is checked over the test client (no browser needed)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import bearer, fake_vendor_env, log_in, new_key
from tests.web.test_chat_browser import REPLY, _console_errors, _log_in, _start

REASONING, PLAIN = "openai/deep-reasoning", "openai/fake-chat"


def _last_chat(fake_vendor) -> dict:
    return [r.body for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1]


def _settled(page: Page, replies: int):
    expect(page.locator(REPLY)).to_have_count(replies)
    expect(page.locator(f'{REPLY}[aria-busy="true"]')).to_have_count(0)


def test_reasoning_effort_is_offered_and_sent_only_for_a_reasoning_model(
        page: Page, live_server, make_user, fake_vendor, screenshot):
    fake_vendor.models = [*fake_vendor.models, "deep-reasoning"]
    make_user("member@example.com")
    errors = _console_errors(page)
    _log_in(page, live_server)
    effort = page.get_by_label("Reasoning effort")

    page.get_by_label("Model").select_option(PLAIN)
    page.get_by_text("Options", exact=True).click()
    expect(page.get_by_label("Max tokens")).to_be_visible()
    expect(effort).to_have_count(0)
    page.get_by_label("Model").select_option(REASONING)
    expect(effort).to_be_visible()  # swapped in for the reasoning model
    effort.select_option("high")
    screenshot("options-reasoning-effort")
    _start(page, REASONING, "think first")
    _settled(page, 1)
    assert _last_chat(fake_vendor)["reasoning_effort"] == "high"

    page.get_by_text("Options", exact=True).click()
    expect(effort).to_have_value("high")  # stored with the conversation
    page.get_by_label("Model").select_option(PLAIN)
    expect(effort).to_have_count(0)
    page.get_by_label("Message", exact=True).fill("now plainly")
    page.get_by_role("button", name="Send").click()
    _settled(page, 2)
    sent = _last_chat(fake_vendor)
    assert sent["model"] == "fake-chat" and "reasoning_effort" not in sent

    page.get_by_label("Model").select_option(REASONING)
    expect(effort).to_have_value("high")  # kept while a plain model was picked
    page.reload()
    page.get_by_text("Options", exact=True).click()
    expect(page.get_by_label("Model")).to_have_value(PLAIN)
    expect(effort).to_have_count(0)
    assert errors == [], errors


def test_an_anthropic_thinking_model_is_offered_a_thinking_budget_that_reaches_the_vendor(
        make_app, fake_vendor):
    app = make_app(**fake_vendor_env(fake_vendor, "openai", "anthropic"))
    client = app.test_client()
    headers = bearer(new_key(app, "member@example.com"))
    log_in(client, "member@example.com")

    budget = client.get("/options/reasoning?model=anthropic/claude-sonnet-4-5"
                        "&reasoning_effort=medium").get_data(as_text=True)
    assert "Thinking budget" in budget and "Reasoning effort" not in budget
    assert '<option value="medium" selected>8,192 tokens</option>' in budget
    effort = client.get(f"/options/reasoning?model={REASONING}").get_data(as_text=True)
    assert "Reasoning effort" in effort and "tokens" not in effort
    plain = client.get(f"/options/reasoning?model={PLAIN}&reasoning_effort=low")
    assert "<select" not in plain.get_data(as_text=True)
    assert 'type="hidden" name="reasoning_effort" value="low"' in plain.get_data(as_text=True)

    created = client.post("/api/v1/conversations", headers=headers, json={
        "model": "anthropic/claude-sonnet-4-5", "options": {"reasoning_effort": "medium"}})
    conversation_id = created.get_json()["data"]["id"]
    sent = client.post(f"/api/v1/conversations/{conversation_id}/messages", headers=headers,
                       json={"content": "hello"})
    assert sent.status_code == 201, sent.get_data(as_text=True)
    body = [r.body for r in fake_vendor.requests if r.path.endswith("/messages")][-1]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8192}
