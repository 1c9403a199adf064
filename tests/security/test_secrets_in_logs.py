"""No vendor key reaches a log line or a page, even at DEBUG through a failing vendor call."""

from __future__ import annotations

import logging
import re

from tests.conftest import PASSWORD, csrf_token, log_in


def test_case14_vendor_key_never_logged_or_shown_at_debug(make_app, fake_vendor, caplog, capsys):
    vendor_key = "sk-live-" + "9" * 24
    fake_vendor.api_key = vendor_key  # the fake echoes a wrong key back in its 401 body
    app = make_app(OPENAI_BASE_URL=fake_vendor.openai_base_url, OPENAI_API_KEY=vendor_key,
                   ANTHROPIC_BASE_URL=fake_vendor.anthropic_base_url,
                   ANTHROPIC_API_KEY=vendor_key, LOG_LEVEL="DEBUG")
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    with app.app_context():
        from app.services import accounts

        accounts.create_user("member@example.com", PASSWORD)
    log_in(client, "member@example.com")
    pages = []
    for model in ("openai/fake-chat", "openai/error-401", "anthropic/error-500",
                  "anthropic/fake-chat"):
        token = csrf_token(client.get("/").get_data(as_text=True))
        response = client.post("/c", data={"csrf_token": token, "model": model,
                                           "message": "hello"}, follow_redirects=True)
        pages.append(response.get_data(as_text=True))
        for stream in re.findall(r'sse-connect="([^"]+)"', pages[-1]):  # the reply streams
            pages.append(client.get(stream).get_data(as_text=True))
    app.test_cli_runner().invoke(args=["vendors", "check"])

    captured = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Echo: hello" in "".join(pages)  # the calls really went through
    for text in (logged, captured.out, captured.err, *pages):
        assert vendor_key not in text
