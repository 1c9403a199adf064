"""Case 20 in the chat: leaving the page mid-stream, against a real gunicorn (gevent) server,
closes the upstream once and keeps the partial reply and its usage row."""

from __future__ import annotations

from tests.conftest import PASSWORD, eventually
from tests.processes import start_chat, web_session
from tests.servers import read_until_then_hang_up
from tests.web.conftest import stored_messages, stream_urls


def test_case20_chat_page_leaving_mid_stream_keeps_the_partial_reply(
        app, make_user, fake_vendor, parlor_process, usage_rows):
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
