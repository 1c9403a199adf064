"""Logs: one JSON object a line on stderr, each request's id on its lines and its response, and
one access line per request that never holds the query string."""

from __future__ import annotations

import json
import logging
import re

import pytest

from app import logs
from tests.conftest import PASSWORD, fake_vendor_env, log_in

REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(**fake_vendor_env(fake_vendor, "openai"))


def json_lines(capsys) -> list[dict]:
    """What was written to stderr, each line parsed (any line that is not JSON fails here)."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "parlor.access"]


def test_every_line_is_a_json_object_with_time_level_logger_and_message(client, capsys):
    capsys.readouterr()
    client.get("/healthz")
    logging.getLogger("parlor.test").warning("outside any request: %s", "here")

    lines = json_lines(capsys)
    assert lines
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= line.keys()
    [outside] = [line for line in lines if line["logger"] == "parlor.test"]
    assert outside["message"] == "outside any request: here"
    assert outside["level"] == "WARNING"
    assert "request_id" not in outside


def test_the_access_line_carries_the_responses_request_id_and_no_query_string(client, capsys):
    capsys.readouterr()
    response = client.get("/healthz?api_key=pk-secret-123&x=1")

    [line] = access_lines(json_lines(capsys))
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["level"] == "INFO" and line["duration_ms"] >= 0
    assert "pk-secret-123" not in json.dumps(line) and "api_key" not in json.dumps(line)


def test_lines_logged_inside_a_request_carry_its_id(app, make_key, capsys):
    client = app.test_client()
    key = make_key()
    capsys.readouterr()
    response = client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                           json={"model": "openai/error-500",
                                 "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 502

    lines = json_lines(capsys)
    failure = [line for line in lines if line["logger"] == "app.api.errors"]
    assert failure and failure[0]["message"].startswith("vendor call failed")
    for line in failure + access_lines(lines):
        assert line["request_id"] == response.headers["x-request-id"]
    assert key not in json.dumps(lines)


def test_every_response_has_a_request_id_pages_included(app, make_user):
    client = app.test_client()
    make_user("member@example.com")
    responses = [client.get("/login"), client.get("/no-such-page"), client.get("/healthz"),
                 client.get("/v1/models"), client.get("/api/v1/me"), client.get("/metrics")]
    log_in(client, "member@example.com")
    responses.append(client.get("/"))
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(REQUEST_ID.fullmatch(rid or "") for rid in ids), ids
    assert len(set(ids)) == len(ids)


def test_a_clients_request_id_is_not_taken_over(client, capsys):
    for chosen in ("req_0123456789abcdef01234567", "x" * 10_000, 'evil" {"level": "ERROR"}'):
        capsys.readouterr()
        response = client.get("/healthz", headers={"x-request-id": chosen})
        own = response.headers["x-request-id"]
        assert own != chosen and REQUEST_ID.fullmatch(own)
        [line] = access_lines(json_lines(capsys))
        assert line["request_id"] == own


def test_log_level_warning_drops_the_access_lines(make_app, capsys):
    client = make_app(LOG_LEVEL="WARNING").test_client()
    capsys.readouterr()
    client.get("/healthz")
    assert access_lines(json_lines(capsys)) == []


def test_setting_up_twice_keeps_one_handler(make_app):
    make_app()
    make_app(LOG_LEVEL="debug")
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logs.JsonLinesHandler)]
    assert len(handlers) == 1
    assert logging.getLogger().level == logging.DEBUG


def test_an_exception_is_logged_as_one_json_line(app, capsys):
    capsys.readouterr()
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        logging.getLogger("parlor.test").exception("it failed")
    [line] = [line for line in json_lines(capsys) if line["logger"] == "parlor.test"]
    assert "ValueError: boom" in line["exc_info"]


def test_password_sent_to_login_is_not_logged(app, make_user, capsys):
    client = app.test_client()
    make_user("member@example.com")
    capsys.readouterr()
    log_in(client, "member@example.com")
    err = capsys.readouterr().err
    assert PASSWORD not in err
    assert '"path": "/login"' in err
