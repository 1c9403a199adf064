"""What a streamed send costs the database: the reply is claimed in the same commit that stores
it, the vendor request is built from the rows read to send, and nothing just written is read
back (bench/chat_streams.py: a burst of 1,000 sends)."""

from __future__ import annotations

import json

from sqlalchemy import event

from app.extensions import db
from tests.api_rest.test_conversations import create, sse_events

# The conversation; its messages (the tree, and the branch the vendor is sent); the two
# messages' INSERT and the conversation's UPDATE; the reply's end (which returns the stored
# reply ``done`` carries) and the conversation's time.
MOST_STATEMENTS = 6


def _statements(app) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "usage_" not in statement:  # the ledger's rows: batched apart (services/usage_writer)
            seen.append(" ".join(statement.split()))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
    return seen


def test_a_streamed_send_claims_its_reply_as_it_stores_it_and_reads_nothing_back(
        app, client, alice):
    conversation = create(client, alice, model="openai/fake-chat")
    statements = _statements(app)
    response = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                           json={"content": "hi there", "stream": True}, headers=alice)
    events = sse_events(response.get_data(as_text=True))
    assert json.loads(events[-1][1])["status"] == "complete"
    assert not [s for s in statements if s.startswith("UPDATE messages SET status")]  # no claim
    assert sum(s.startswith("INSERT INTO messages") for s in statements) == 1  # both, at once
    assert not [s for s in statements if s.startswith("SELECT api_keys")]  # the cached key
    assert not [s for s in statements if s.startswith("SELECT") and "messages.id = " in s], \
        "done carries the reply as its end's UPDATE returned it: nothing reads it back"
    assert len(statements) <= MOST_STATEMENTS, "\n".join(statements)
