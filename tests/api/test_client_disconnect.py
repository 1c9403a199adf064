"""Case 20 on /v1: a client that hangs up mid-stream, against a real gunicorn (gevent) server.

The upstream is closed, a usage row is kept, and nothing is retried; while the vendor is
silent, pings let the server notice a client that is gone.
"""

from __future__ import annotations

import json

import requests

from app.services import keepalive
from tests.conftest import eventually
from tests.servers import read_until_then_hang_up


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
