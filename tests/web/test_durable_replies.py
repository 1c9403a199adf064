"""Durable replies over the Flask test client and a threaded server: the text is saved as it
grows (batched), a reply whose writer is gone becomes ``interrupted`` and can be continued,
and a stream can be rejoined from the offset a client already has."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from app.extensions import db
from app.models import Conversation, Message, MessageStatus
from tests.conftest import csrf_token, eventually, new_key
from tests.web.conftest import read_stream, start_chat, stored_messages, stream_urls

HTMX = {"HX-Request": "true"}


def _conversation_with_a_dead_writer(app, user_id: int, partial: str) -> tuple[str, str]:
    """A conversation whose last reply was streaming when its writer died (lease lapsed)."""
    with app.app_context():
        conversation = Conversation(user_id=user_id, model="openai/gpt-4o-mini", title="Dead")
        db.session.add(conversation)
        db.session.flush()
        prompt = Message(conversation_id=conversation.id, seq=1, role="user",
                         content="Tell me a story")
        db.session.add(prompt)
        db.session.flush()
        reply = Message(conversation_id=conversation.id, seq=2, role="assistant",
                        parent_id=prompt.id, model="openai/gpt-4o-mini", content=partial,
                        status=MessageStatus.STREAMING,
                        lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        db.session.add(reply)
        db.session.flush()
        conversation.current_leaf_id = reply.id
        db.session.commit()
        return conversation.id, reply.id


def _user_id(app, email="member@example.com") -> int:
    from app.models import User

    with app.app_context():
        return db.session.query(User).filter_by(email=email).one().id


def test_streaming_text_is_saved_as_it_grows_at_most_one_update_a_second(member_client, app,
                                                                        fake_vendor):
    fake_vendor.chunk_delay = 0.02
    updates: list[float] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE MESSAGES SET CONTENT"):
            updates.append(time.monotonic())

    event.listen(engine, "before_cursor_execute", count)
    try:
        location = start_chat(member_client, model="openai/slow-stream", message="go")
        [url] = stream_urls(member_client.get(location).get_data(as_text=True))
        response = member_client.get(url, buffered=False)
        chunks = iter(response.response)
        seen = ""
        started = time.monotonic()
        while time.monotonic() - started < 3.2:
            seen += next(chunks).decode()
        reply = stored_messages(app, location.rsplit("/", 1)[1])[-1]
        response.close()
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert reply.status == "streaming" and reply.content.startswith("tick tick")
    assert reply.lease_expires_at > datetime.now(UTC)  # held by a live writer
    assert seen.count("event: delta") > 50  # dozens of pieces ...
    assert 2 <= len(updates) <= 4  # ... and one save a second


def test_a_reply_whose_writer_died_is_interrupted_and_the_conversation_goes_on(member_client,
                                                                              app):
    conversation_id, reply_id = _conversation_with_a_dead_writer(
        app, _user_id(app), "Once upon a time")
    page = member_client.get(f"/c/{conversation_id}").get_data(as_text=True)

    assert 'data-status="interrupted"' in page and "sse-connect" not in page
    assert ">Continue</button>" in page and ">Regenerate</button>" in page
    assert "Once upon a time" in page
    response = member_client.post(f"/c/{conversation_id}/messages", headers=HTMX,
                                  data={"csrf_token": csrf_token(page), "message": "And then?",
                                        "model": "openai/gpt-4o-mini"})
    assert response.status_code == 200, response.get_data(as_text=True)
    [url] = stream_urls(response.get_data(as_text=True))
    assert "Echo: And then?" in read_stream(member_client, url)
    interrupted = stored_messages(app, conversation_id)[1]
    assert (interrupted.id, interrupted.status, interrupted.content) == (
        reply_id, "interrupted", "Once upon a time")


def test_a_send_before_any_sweep_is_not_refused_for_a_dead_writers_reply(member_client, app):
    conversation_id, _reply = _conversation_with_a_dead_writer(app, _user_id(app), "Half")
    app.extensions["parlor_lease_sweep"] = [time.monotonic()]  # no sweep is due
    page = member_client.get("/").get_data(as_text=True)
    response = member_client.post(f"/c/{conversation_id}/messages", headers=HTMX,
                                  data={"csrf_token": csrf_token(page), "message": "Next",
                                        "model": "openai/gpt-4o-mini"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "still being written" not in response.get_data(as_text=True)


def test_continue_asks_the_model_to_go_on_and_appends_to_the_same_reply(member_client, app,
                                                                       fake_vendor):
    conversation_id, reply_id = _conversation_with_a_dead_writer(
        app, _user_id(app), "Once upon a time")
    page = member_client.get(f"/c/{conversation_id}").get_data(as_text=True)

    response = member_client.post(f"/c/{conversation_id}/messages/{reply_id}/continue",
                                  headers=HTMX, data={"csrf_token": csrf_token(page)})
    article = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="m-{reply_id}"' in article
    assert "Once upon a time" in article  # the text so far stays on the page ...
    [url] = stream_urls(article)
    assert "offset=16" in url  # ... and the stream goes on from its end
    body = read_stream(member_client, url.replace("&amp;", "&"))

    sent = fake_vendor.last_request.body["messages"]
    assert sent[-2] == {"role": "assistant", "content": "Once upon a time"}
    assert sent[-1]["role"] == "user" and "Continue your previous reply" in sent[-1]["content"]
    reply = stored_messages(app, conversation_id)[-1]
    assert reply.id == reply_id and reply.status == "complete"
    assert reply.content.startswith("Once upon a timeEcho: Continue your previous reply")
    deltas = "".join(re.findall(r"event: delta\ndata: (.*)\n", body))
    assert "Once upon a time" not in deltas  # only the continuation was streamed


def test_a_finished_reply_cannot_be_continued(member_client, app):
    location = start_chat(member_client, message="finished")
    page = member_client.get(location).get_data(as_text=True)
    [url] = stream_urls(page)
    read_stream(member_client, url)
    reply = stored_messages(app, location.rsplit("/", 1)[1])[-1]
    response = member_client.post(f"{location}/messages/{reply.id}/continue", headers=HTMX,
                                  data={"csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert "Only a reply that was cut short can be continued" in response.get_data(as_text=True)


def _events(response) -> list[tuple[str | None, str, str]]:
    """(id, event, data) of each event, read as they come."""
    found, fields = [], {}
    for raw in response:
        line = raw.decode().rstrip("\n")
        if not line:
            if "event" in fields:
                found.append((fields.get("id"), fields["event"], fields.get("data", "")))
                yield found[-1]
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value


def test_rest_stream_is_rejoined_with_last_event_id_nothing_lost_or_repeated(
        app, live_server, fake_vendor):
    fake_vendor.chunk_delay = 0.01
    key = new_key(app)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(path, body=None, extra=None):
        return urllib.request.urlopen(urllib.request.Request(  # noqa: S310 - our own server
            live_server + path, headers={**headers, **(extra or {})},
            data=json.dumps(body).encode() if body is not None else None), timeout=30)

    conversation = json.load(call("/api/v1/conversations", {"model": "openai/slow-stream"}))
    base = f"/api/v1/conversations/{conversation['data']['id']}/messages"
    first = call(base, {"content": "go", "stream": True})
    events = _events(first)
    reply_id = json.loads(next(events)[2])["reply"]["id"]
    received, last_id = "", None
    for event_id, _name, data in events:
        received += json.loads(data)["text"]
        last_id = event_id
        if len(received) > 40:
            break
    first.close()  # the client lost its connection
    assert int(last_id) == len(received)

    again = call(f"{base}/{reply_id}/stream", extra={"Last-Event-ID": last_id})
    rest = list(_events(again))

    assert rest[-1][1] == "done"
    final = json.loads(rest[-1][2])
    received += "".join(json.loads(data)["text"] for _id, name, data in rest if name == "delta")
    assert final["status"] == "complete" and received == final["content"] == "tick " * 500


def test_rest_rejoin_refuses_a_last_event_id_that_is_not_an_offset(app, client):
    key = new_key(app)
    headers = {"Authorization": f"Bearer {key}"}
    created = client.post("/api/v1/conversations", json={"model": "mock/echo"}, headers=headers)
    conversation_id = created.get_json()["data"]["id"]
    sent = client.post(f"/api/v1/conversations/{conversation_id}/messages", headers=headers,
                       json={"content": "hello"})
    reply_id = sent.get_json()["data"]["reply"]["id"]

    bad = client.get(f"/api/v1/conversations/{conversation_id}/messages/{reply_id}/stream",
                     headers={**headers, "Last-Event-ID": "abc"})
    done = client.get(f"/api/v1/conversations/{conversation_id}/messages/{reply_id}/stream",
                      headers=headers)

    assert bad.status_code == 400 and bad.get_json()["error"]["message"].startswith(
        "Last-Event-ID")
    body = done.get_data(as_text=True)
    assert "event: delta" not in body and '"status":"complete"' in body.replace(" ", "")


def test_plain_rest_send_runs_the_generation_without_events_and_files_one_usage_row(
        app, client, usage_rows):
    key = new_key(app)
    headers = {"Authorization": f"Bearer {key}"}
    created = client.post("/api/v1/conversations", json={"model": "mock/echo"}, headers=headers)
    conversation_id = created.get_json()["data"]["id"]
    sent = client.post(f"/api/v1/conversations/{conversation_id}/messages", headers=headers,
                       json={"content": "plain please"})
    reply = sent.get_json()["data"]["reply"]
    assert sent.status_code == 201 and reply["status"] == "complete"
    assert "plain please" in reply["content"]
    [row] = eventually(usage_rows)
    assert (row.status, row.source) == ("complete", "api")


def test_a_follower_in_another_thread_sees_the_same_text_growing(member_client, app,
                                                                fake_vendor):
    fake_vendor.chunk_delay = 0.01
    location = start_chat(member_client, model="openai/slow-stream", message="go")
    [url] = stream_urls(member_client.get(location).get_data(as_text=True))
    first = member_client.get(url, buffered=False)
    chunks = iter(first.response)
    while "event: delta" not in next(chunks).decode():
        pass
    results: dict[str, str] = {}

    def follow():
        results["body"] = member_client.get(url).get_data(as_text=True)

    thread = threading.Thread(target=follow)
    thread.start()
    rest = "".join(c.decode() for c in chunks)
    thread.join(timeout=30)
    first.close()

    body = results["body"]
    texts = re.findall(r"event: delta\ndata: (.*)\n", body)
    assert len(texts) > 10  # live pieces, not only the end
    assert "".join(texts) == "tick " * 500  # the saved text first, then the rest, once
    assert "event: done" in rest and 'data-status="complete"' in body


def test_rest_reads_a_dead_writers_reply_as_interrupted_and_takes_the_next_message(app,
                                                                                   client):
    key = new_key(app)
    headers = {"Authorization": f"Bearer {key}"}
    conversation_id, reply_id = _conversation_with_a_dead_writer(app, _user_id(app), "Half")
    sent = client.post(f"/api/v1/conversations/{conversation_id}/messages", headers=headers,
                       json={"content": "go on"})
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)

    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["data"]["reply"]["status"] == "complete"
    [dead] = [m for m in detail.get_json()["data"]["messages"] if m["id"] == reply_id]
    assert (dead["status"], dead["content"]) == ("interrupted", "Half")


def test_a_chat_reply_is_filed_under_the_users_team(member_client, app, usage_rows):
    from tests.budgets import make_team

    team_id = make_team(app, "platform", ("member@example.com",))
    location = start_chat(member_client, message="for the team")
    [url] = stream_urls(member_client.get(location).get_data(as_text=True))
    read_stream(member_client, url)

    [row] = eventually(usage_rows)
    assert (row.source, row.status, row.team_id) == ("web", "complete", team_id)


def test_a_stop_made_by_another_process_ends_the_writer_within_seconds(member_client, app,
                                                                      fake_vendor):
    from app.repositories import conversations as conversations_repo

    fake_vendor.chunk_delay = 0.02
    location = start_chat(member_client, model="openai/slow-stream", message="go")
    [url] = stream_urls(member_client.get(location).get_data(as_text=True))
    response = member_client.get(url, buffered=False)
    chunks = iter(response.response)
    seen = ""
    while seen.count("event: delta") < 3:
        seen += next(chunks).decode()
    reply_id = stored_messages(app, location.rsplit("/", 1)[1])[-1].id
    with app.app_context():  # what another worker's Stop does: only the database changes
        assert conversations_repo.stop_reply(reply_id)
        db.session.commit()
    stopped_at = time.monotonic()

    seen += "".join(chunk.decode() for chunk in chunks)

    assert time.monotonic() - stopped_at < 3
    assert 'data-status="stopped"' in seen.split("event: done", 1)[1]
    reply = stored_messages(app, location.rsplit("/", 1)[1])[-1]
    assert reply.status == "stopped" and reply.content.startswith("tick tick")


def test_an_incomplete_reply_can_be_continued_too(member_client, app, fake_vendor):
    conversation_id, reply_id = _conversation_with_a_dead_writer(app, _user_id(app), "Half a")
    with app.app_context():
        db.session.get(Message, reply_id).status = MessageStatus.INCOMPLETE  # a vendor cut it
        db.session.get(Message, reply_id).lease_expires_at = None
        db.session.commit()
    page = member_client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert ">Continue</button>" in page

    response = member_client.post(f"/c/{conversation_id}/messages/{reply_id}/continue",
                                  headers=HTMX, data={"csrf_token": csrf_token(page)})
    [url] = stream_urls(response.get_data(as_text=True))
    read_stream(member_client, url.replace("&amp;", "&"))

    reply = stored_messages(app, conversation_id)[-1]
    assert reply.status == "complete" and reply.content.startswith("Half aEcho: Continue")


def test_a_reply_no_writer_ever_claimed_does_not_block_the_conversation(member_client, app):
    conversation_id, reply_id = _conversation_with_a_dead_writer(app, _user_id(app), "")
    with app.app_context():  # sent, but its page was closed before it streamed
        reply = db.session.get(Message, reply_id)
        reply.status, reply.lease_expires_at = MessageStatus.PENDING, None
        reply.created_at = datetime.now(UTC) - timedelta(minutes=5)
        db.session.commit()
    page = member_client.get("/").get_data(as_text=True)

    response = member_client.post(f"/c/{conversation_id}/messages", headers=HTMX,
                                  data={"csrf_token": csrf_token(page), "message": "Hello?",
                                        "model": "openai/gpt-4o-mini"})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert stored_messages(app, conversation_id)[1].status == "interrupted"


def test_rest_continue_appends_to_a_reply_cut_short_plain_or_streamed(app, client):
    headers = {"Authorization": f"Bearer {new_key(app)}"}
    user_id = _user_id(app)
    conversation_id, reply_id = _conversation_with_a_dead_writer(app, user_id, "Once")
    base = f"/api/v1/conversations/{conversation_id}/messages/{reply_id}/continue"

    plain = client.post(base, headers=headers, json={})
    again = client.post(base, headers=headers, json={})

    assert plain.status_code == 200, plain.get_json()
    reply = plain.get_json()["data"]
    assert reply["id"] == reply_id and reply["status"] == "complete"
    assert reply["content"].startswith("OnceEcho: Continue your previous reply")
    assert again.status_code == 400  # finished now: nothing to continue

    other_id, other_reply = _conversation_with_a_dead_writer(app, user_id, "Twice")
    body = client.post(f"/api/v1/conversations/{other_id}/messages/{other_reply}/continue",
                       headers=headers, json={"stream": True}).get_data(as_text=True)
    ids = re.findall(r"id: (\d+)\nevent: delta", body)
    assert ids and int(ids[0]) > len("Twice")  # offsets go on from the text it had
    texts = "".join(json.loads(t)["text"] for t in re.findall(r"event: delta\ndata: (.*)", body))
    assert texts.startswith("Echo: Continue") and '"status":"complete"' in body.replace(" ", "")
