"""The reply stream over the Flask test client: events, one generation per message, Stop."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import UsageRecord
from tests.conftest import csrf_token, log_in
from tests.web.conftest import read_stream, start_chat, stored_messages, stream_urls


def _usage_rows(app) -> list[tuple[str, str, int, int]]:
    with app.app_context():
        return [(u.status, u.source, u.input_tokens, u.output_tokens)
                for u in db.session.scalars(select(UsageRecord).order_by(UsageRecord.id))]


def test_stream_sends_deltas_then_done_and_stores_the_reply(member_client, app):
    location = start_chat(member_client, message="one two three four")
    [url] = stream_urls(member_client.get(location).get_data(as_text=True))

    response = member_client.get(url)
    body = response.get_data(as_text=True)

    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert body.count("event: delta") == 4  # the mock streams word by word
    assert body.rstrip().endswith("</article>") and "event: done" in body
    done = body.split("event: done", 1)[1]
    assert 'data-status="complete"' in done and "sse-connect" not in done
    conversation_id = location.rsplit("/", 1)[1]
    user, reply = stored_messages(app, conversation_id)
    assert (reply.role, reply.status, reply.content) == ("assistant", "complete",
                                                          "one two three four")
    assert _usage_rows(app) == [("complete", "web", 4, 4)]


def test_second_connection_to_a_finished_stream_starts_no_generation(member_client, app):
    location = start_chat(member_client, message="only once")
    [url] = stream_urls(member_client.get(location).get_data(as_text=True))
    read_stream(member_client, url)

    again = read_stream(member_client, url)

    assert "event: delta" not in again and "event: done" in again
    assert "only once" in again
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UsageRecord)) == 1


def test_partial_text_in_deltas_is_escaped(member_client):
    location = start_chat(member_client, message="<b>bold</b> & <script>x</script>")
    [url] = stream_urls(member_client.get(location).get_data(as_text=True))
    body = read_stream(member_client, url)
    deltas = body.split("event: done")[0]
    assert "<b>" not in deltas and "&lt;b&gt;" in deltas and "<script>" not in body


def test_stop_mid_stream_keeps_the_partial_reply_and_closes_upstream(member_client, app,
                                                                     fake_vendor):
    location = start_chat(member_client, model="openai/slow-stream", message="go")
    page = member_client.get(location).get_data(as_text=True)
    [url] = stream_urls(page)
    stop_url = url.replace("/stream", "/stop")
    response = member_client.get(url, buffered=False)
    chunks = iter(response.response)
    seen = ""
    while seen.count("event: delta") < 2:
        seen += next(chunks).decode()

    assert member_client.post(stop_url, data={"csrf_token": csrf_token(page)}).status_code == 204
    seen += "".join(chunk.decode() for chunk in chunks)
    response.close()

    assert 'data-status="stopped"' in seen.split("event: done", 1)[1]
    reply = stored_messages(app, location.rsplit("/", 1)[1])[-1]
    assert reply.status == "stopped" and reply.content.startswith("tick tick")
    [(status, source, _input, output)] = _usage_rows(app)
    assert (status, source) == ("stopped", "web") and output > 0  # estimated: no vendor usage
    deadline = time.monotonic() + 5  # the server notices at its next write
    while "slow-stream" not in fake_vendor.disconnects and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "slow-stream" in fake_vendor.disconnects


def test_stop_before_the_stream_starts_means_no_generation(member_client, app):
    location = start_chat(member_client, message="never")
    page = member_client.get(location).get_data(as_text=True)
    [url] = stream_urls(page)
    member_client.post(url.replace("/stream", "/stop"), data={"csrf_token": csrf_token(page)})

    body = read_stream(member_client, url)

    assert "event: delta" not in body and 'data-status="stopped"' in body
    assert _usage_rows(app) == []


def test_vendor_failure_is_stored_inline_with_retry(member_client, app, fake_vendor):
    location = start_chat(member_client, model="openai/error-429", message="keep me")
    [url] = stream_urls(member_client.get(location).get_data(as_text=True))
    body = read_stream(member_client, url)
    assert "rate limiting" in body and ">Retry</button>" in body
    assert fake_vendor.api_key not in body
    user, reply = stored_messages(app, location.rsplit("/", 1)[1])
    assert (user.content, reply.status) == ("keep me", "error")
    assert _usage_rows(app)[0][0] == "error"


def test_another_users_stream_and_stop_are_404(member_client, make_user, app):
    location = start_chat(member_client)
    [url] = stream_urls(member_client.get(location).get_data(as_text=True))
    other = app.test_client()
    make_user("other@example.com")
    log_in(other, "other@example.com")
    token = csrf_token(other.get("/").get_data(as_text=True))
    assert other.get(url).status_code == 404
    assert other.post(url.replace("/stream", "/stop"), data={"csrf_token": token}).status_code \
        == 404
    assert stored_messages(app, location.rsplit("/", 1)[1])[-1].status == "pending"
