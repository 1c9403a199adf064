"""services/reply_saver.py: the text of every reply being written, saved in one batch a tick; a
reply no longer streaming has its writer told through ``live.cancel``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, update

from app.extensions import db
from app.models import Conversation, Message, MessageStatus
from app.repositories import accounts as accounts_repo
from app.repositories import replies as replies_repo
from app.services import reply_saver
from app.services.reply_hub import LiveReply


@pytest.fixture
def replies(app, make_user):
    """Three replies streaming under a lease; their ids."""
    make_user("member@example.com")
    with app.app_context():
        user = accounts_repo.user_by_email("member@example.com")
        conversation = Conversation(user_id=user.id, model="mock/echo", title="t")
        db.session.add(conversation)
        db.session.flush()
        rows = [Message(conversation_id=conversation.id, seq=n, role="assistant",
                        status=MessageStatus.STREAMING,
                        lease_expires_at=datetime.now(UTC) + timedelta(seconds=30))
                for n in range(1, 4)]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def _stored(app, message_id: str) -> Message:
    with app.app_context():
        return db.session.get(Message, message_id)


def test_a_save_stores_the_text_thinking_and_lease_of_a_reply_still_streaming(app, replies):
    lease = datetime.now(UTC) + timedelta(seconds=90)
    with app.app_context():
        live = LiveReply(replies[0], "", app)
        reply_saver.save(live, lease, "so far", "hmm")
        reply_saver.save(LiveReply(replies[1], "", app), lease)  # the lease alone
    first, second = _stored(app, replies[0]), _stored(app, replies[1])
    assert (first.content, first.thinking, first.status) == ("so far", "hmm", "streaming")
    assert abs((first.lease_expires_at - lease).total_seconds()) < 1
    assert second.content == "" and abs((second.lease_expires_at - lease).total_seconds()) < 1
    assert live.cancel is None


def test_a_reply_stopped_elsewhere_or_deleted_has_its_writer_told(app, replies):
    with app.app_context():
        db.session.execute(update(Message).where(Message.id == replies[0])
                           .values(status=MessageStatus.STOPPED))
        db.session.execute(delete(Message).where(Message.id == replies[1]))
        db.session.commit()
        stopped, deleted = LiveReply(replies[0], "", app), LiveReply(replies[1], "", app)
        lease = datetime.now(UTC) + timedelta(seconds=30)
        reply_saver.save(stopped, lease, "text")
        reply_saver.save(deleted, lease, "text")
    assert (stopped.cancel, deleted.cancel) == ("stopped", "interrupted")
    assert _stored(app, replies[0]).content == ""  # a stopped reply's text is its writer's


def test_saves_handed_in_while_a_batch_is_written_go_together_in_the_next(
        app, replies, monkeypatch):
    batches: list[list[str]] = []
    writing, handed_in = threading.Event(), threading.Event()
    save_texts = replies_repo.save_texts

    def recording(saves):
        batches.append([reply for reply, *_ in saves])
        if len(batches) == 1:
            writing.set()
            assert handed_in.wait(10)  # the others are handed in while this batch is written
        return save_texts(saves)

    monkeypatch.setattr(replies_repo, "save_texts", recording)
    lease = datetime.now(UTC) + timedelta(seconds=30)

    def first_writer():
        with app.app_context():
            reply_saver.save(LiveReply(replies[0], "", app), lease, "one")

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert writing.wait(10)
    with app.app_context():  # two other writers: nobody waits, the first writer writes theirs
        reply_saver.save(LiveReply(replies[1], "", app), lease, "two")
        reply_saver.save(LiveReply(replies[2], "", app), lease, "three")
    assert len(batches) == 1
    handed_in.set()
    thread.join(10)
    assert batches == [[replies[0]], [replies[1], replies[2]]]
    assert [_stored(app, r).content for r in replies] == ["one", "two", "three"]


def test_a_batch_of_replies_all_still_streaming_reads_no_statuses(app, replies):
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    lease = datetime.now(UTC) + timedelta(seconds=30)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            lives = [LiveReply(reply, "", app) for reply in replies]
            reply_saver.save(lives[0], lease, "text")
            reply_saver.save(lives[1], lease)  # the lease alone
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
    assert [s.split()[0] for s in seen] == ["UPDATE", "UPDATE"], seen
    assert [live.cancel for live in lives[:2]] == [None, None]


def test_in_a_mixed_batch_only_the_reply_no_longer_streaming_is_told(app, replies):
    with app.app_context():
        db.session.execute(update(Message).where(Message.id == replies[1])
                           .values(status=MessageStatus.STOPPED))
        db.session.commit()
        batch = {reply: reply_saver.Save(LiveReply(reply, "", app),
                                         datetime.now(UTC) + timedelta(seconds=30),
                                         "text" if n else None, None)
                 for n, reply in enumerate(replies)}
        reply_saver._write(batch)
    assert [batch[r].live.cancel for r in replies] == [None, "stopped", None]
    assert [_stored(app, r).content for r in replies] == ["", "", "text"]
