"""Secrets kept out of logs and pages: no vendor key (case 14) or Parlor key (case 9) reaches
a log line, even at DEBUG through a failing vendor call; query strings are left out or masked.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from app.security import RedactQuerySecrets
from tests.conftest import PASSWORD, csrf_token, log_in, new_key

ROOT = Path(__file__).resolve().parents[2]


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


def test_access_log_format_leaves_the_query_string_out():
    namespace: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102 - our own file

    assert "%(U)s" in namespace["access_log_format"]
    assert "%(r)s" not in namespace["access_log_format"]
    assert "%(q)s" not in namespace["access_log_format"]


def test_request_log_lines_have_query_keys_masked():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - "%s" %s',
                               ("127.0.0.1", "GET /v1/models?api_key=pk-secret-123&x=1 HTTP/1.1",
                                "401"), None)

    RedactQuerySecrets().filter(record)

    assert "pk-secret-123" not in record.getMessage()
    assert "api_key=***&x=1" in record.getMessage()


def test_case9_parlor_and_vendor_keys_never_logged_through_v1_calls_at_debug(
        make_app, fake_vendor, caplog, capsys):
    vendor_key = "sk-live-" + "7" * 24
    fake_vendor.api_key = vendor_key
    app = make_app(OPENAI_BASE_URL=fake_vendor.openai_base_url, OPENAI_API_KEY=vendor_key,
                   ANTHROPIC_BASE_URL=fake_vendor.anthropic_base_url,
                   ANTHROPIC_API_KEY=vendor_key, LOG_LEVEL="DEBUG")
    key = new_key(app)
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    bodies = []
    for model in ("openai/fake-chat", "openai/error-401", "anthropic/error-500"):
        for stream in (False, True):
            body = {"model": model, "stream": stream,
                    "messages": [{"role": "user", "content": "hello"}]}
            response = client.post("/v1/chat/completions", json=body,
                                   headers={"Authorization": f"Bearer {key}"})
            bodies.append(response.get_data(as_text=True))
    bodies.append(client.get(f"/v1/models?api_key={key}").get_data(as_text=True))
    bodies.append(client.get("/v1/models", headers={"Authorization": f"Bearer {key}x"})
                  .get_data(as_text=True))

    captured = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Echo: hello" in "".join(bodies)
    for text in (logged, captured.out, captured.err, *bodies):
        assert key not in text
        assert vendor_key not in text
