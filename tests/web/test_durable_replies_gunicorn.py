"""Durable replies against real gunicorn (gevent) processes, as ``make serve`` runs them: a
worker killed mid-stream, and a graceful stop (tests/web/test_follow_across_instances.py: two
instances sharing PostgreSQL and Redis)."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from tests.conftest import PASSWORD, csrf_token
from tests.processes import start_chat, web_session
from tests.web.conftest import stored_messages, stream_urls

DELTA = re.compile(r"event: delta\ndata: (.*)\n")


def _worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _read_deltas(response, count: int) -> str:
    """The text of the first ``count`` delta events of an open stream."""
    buffer, texts = "", []
    for chunk in response.iter_content(chunk_size=None, decode_unicode=True):
        buffer += chunk
        texts = DELTA.findall(buffer)
        if len(texts) >= count:
            break
    return "".join(texts)


def _open_stream(session, base_url: str, location: str):
    [url] = stream_urls(session.get(location, timeout=10).text)
    return session.get(base_url + url.replace("&amp;", "&"), stream=True, timeout=30,
                       headers={"Accept": "text/event-stream"})


def _conversation_id(location: str) -> str:
    return location.rsplit("/", 1)[1]


def test_a_killed_workers_reply_becomes_interrupted_with_its_text_and_the_chat_goes_on(
        app, make_user, fake_vendor, parlor_process):
    make_user("member@example.com")
    fake_vendor.chunk_delay = 0.05  # 500 words: 25 s
    server = parlor_process(PARLOR_REPLY_LEASE_SECONDS=3)
    session = web_session(server.url, "member@example.com", PASSWORD)
    location = start_chat(session, server.url, "openai/slow-stream")
    stream = _open_stream(session, server.url, location)
    shown = _read_deltas(stream, 20)
    time.sleep(1.5)  # the text shown so far has been saved (once a second)
    [worker] = _worker_pids(server.process.pid)

    killed_at = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    stream.close()
    while True:  # reading the conversation is what notices a lapsed lease (no cron)
        session.get(location, timeout=10)
        reply = stored_messages(app, _conversation_id(location))[-1]
        if reply.status != "streaming" or time.monotonic() - killed_at > 60:
            break
        time.sleep(0.5)

    assert reply.status == "interrupted", server.log()
    assert time.monotonic() - killed_at < 60
    assert shown.startswith("tick tick") and reply.content.startswith(shown)
    page = session.get(location, timeout=10).text
    assert ">Continue</button>" in page and ">Regenerate</button>" in page
    fake_vendor.chunk_delay = 0.001
    sent = session.post(location + "/messages", timeout=10, headers={"HX-Request": "true"},
                        data={"csrf_token": csrf_token(page), "message": "again",
                              "model": "openai/slow-stream"})
    assert sent.status_code == 200, sent.text
    [url] = stream_urls(sent.text)
    assert 'data-status="complete"' in session.get(server.url + url, timeout=30).text


def test_sigterm_during_streams_leaves_no_reply_streaming(app, make_user, fake_vendor,
                                                          parlor_process):
    make_user("member@example.com")
    fake_vendor.chunk_delay = 0.05
    server = parlor_process(GUNICORN_CMD_ARGS="--graceful-timeout 4")
    session = web_session(server.url, "member@example.com", PASSWORD)
    chats = [start_chat(session, server.url, "openai/slow-stream") for _ in range(2)]
    streams = [_open_stream(session, server.url, location) for location in chats]
    shown = [_read_deltas(stream, 5) for stream in streams]

    server.process.send_signal(signal.SIGTERM)  # a deploy: graceful stop
    server.process.wait(timeout=20)
    for stream in streams:
        stream.close()

    replies = [stored_messages(app, _conversation_id(location))[-1] for location in chats]
    assert [r.status for r in replies] == ["interrupted", "interrupted"], server.log()
    for reply, text in zip(replies, shown, strict=True):
        assert reply.content.startswith(text) and reply.lease_expires_at is None


def test_without_redis_a_reply_followed_from_another_process_goes_on_after_its_page_left(
        app, make_user, fake_vendor, parlor_process):
    make_user("member@example.com")
    fake_vendor.chunk_delay = 0.04  # 500 words: 20 s, far past the orphan period
    one = parlor_process(PARLOR_REPLY_ORPHAN_SECONDS=2)
    other = parlor_process(PARLOR_REPLY_ORPHAN_SECONDS=2)  # same database and instance folder
    session = web_session(one.url, "member@example.com", PASSWORD)
    location = start_chat(session, one.url, "openai/slow-stream")
    writing = _open_stream(session, one.url, location)
    _read_deltas(writing, 10)
    writing.close()  # the page that started it leaves ...

    page = session.get(location.replace(one.url, other.url), timeout=10).text
    [url] = stream_urls(page)  # ... and the reply is opened on the other process
    # the text shown so far (none yet if the writer has not saved its first second)
    shown = int(found.group(1)) if (found := re.search(r"offset=(\d+)", url)) else 0
    body = session.get(other.url + url.replace("&amp;", "&"), timeout=30).text

    texts = DELTA.findall(body.split("event: done", 1)[0])
    assert len(texts) > 3  # read again and again as it is saved, not only at the end
    assert "".join(texts) == ("tick " * 500)[shown:]
    reply = stored_messages(app, _conversation_id(location))[-1]
    assert (reply.status, reply.content) == ("complete", "tick " * 500)  # not ended as orphan
