"""Case 20: a client that hangs up mid-stream, against a real gunicorn (gevent) server.

The upstream is closed, the partial reply and a usage row are kept, and nothing is retried.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import requests

from app.api import keepalive
from tests.conftest import PASSWORD
from tests.hardening2.conftest import eventually, start_chat, web_session
from tests.web.conftest import stored_messages, stream_urls


def read_until_then_hang_up(url: str, marker: bytes, method: str = "GET", body: bytes = b"",
                            headers: dict | None = None) -> bytes:
    """Send one HTTP/1.1 request on a raw socket, read until ``marker``, then close it."""
    parts = urlsplit(url)
    lines = [f"{method} {parts.path} HTTP/1.1", f"Host: {parts.netloc}",
             f"Content-Length: {len(body)}",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        received = b""
        while marker not in received:
            chunk = sock.recv(4096)
            assert chunk, f"the stream ended before {marker!r}: {received[-500:]!r}"
            received += chunk
        return received
    finally:
        sock.close()


def test_case20_v1_client_hanging_up_closes_upstream_and_records_a_stopped_call(
        make_key, fake_vendor, parlor_process, usage_rows):
    server = parlor_process(PARLOR_VENDOR_RETRIES=2)  # a retry would be possible, none happens
    body = json.dumps({"model": "openai/slow-stream", "stream": True,
                       "messages": [{"role": "user", "content": "go"}]}).encode()

    received = read_until_then_hang_up(
        server.url + "/v1/chat/completions", b'"content":"tick', method="POST", body=body,
        headers={"Authorization": f"Bearer {make_key()}", "Content-Type": "application/json"})

    assert b"200 OK" in received.split(b"\r\n", 1)[0]
    assert fake_vendor.wait_for_disconnect("slow-stream", timeout=10), server.log()
    [row] = eventually(usage_rows)
    assert (row.status, row.source, row.model) == ("stopped", "api", "openai/slow-stream")
    assert row.output_tokens > 0  # estimated from what was relayed
    assert len(fake_vendor.requests_for("slow-stream")) == 1


def test_case20_chat_page_leaving_mid_stream_keeps_the_partial_reply(
        app, make_user, fake_vendor, parlor_process, usage_rows):
    fake_vendor.models = [*fake_vendor.models, "slow-stream"]  # offered in the model picker
    make_user("member@example.com")
    server = parlor_process(PARLOR_VENDOR_RETRIES=2)
    session = web_session(server.url, "member@example.com", PASSWORD)
    location = start_chat(session, server.url, "openai/slow-stream")
    [url] = stream_urls(session.get(location, timeout=10).text)
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)

    read_until_then_hang_up(server.url + url, b"event: delta\ndata: tick",
                            headers={"Cookie": cookies, "Accept": "text/event-stream"})

    assert fake_vendor.wait_for_disconnect("slow-stream", timeout=10), server.log()
    [row] = eventually(usage_rows)
    assert (row.status, row.source) == ("incomplete", "web") and row.output_tokens > 0
    reply = stored_messages(app, location.rsplit("/", 1)[1])[-1]
    assert reply.status == "incomplete" and reply.content.startswith("tick")
    assert len(fake_vendor.requests_for("slow-stream")) == 1


def test_case20_v1_stream_pings_while_the_vendor_is_silent_so_a_gone_client_is_noticed(
        make_key, fake_vendor, live_server, usage_rows, monkeypatch):
    monkeypatch.setattr(keepalive, "PING_SECONDS", 0.1)
    fake_vendor.chunk_delay = 1.0  # a long silence between two chunks
    response = requests.post(
        live_server + "/v1/chat/completions", stream=True, timeout=10,
        headers={"Authorization": f"Bearer {make_key()}"},
        json={"model": "openai/slow-stream", "stream": True,
              "messages": [{"role": "user", "content": "go"}]})
    seen = []
    for line in response.iter_lines():  # the first word, then silence: pings
        seen.append(line)
        if line == b": ping" or len(seen) == 10:
            break
    response.close()

    assert seen[-1] == b": ping" and any(b'"tick ' in line for line in seen)
    [row] = eventually(usage_rows)
    assert row.status == "stopped"
    assert fake_vendor.wait_for_disconnect("slow-stream", timeout=10)
