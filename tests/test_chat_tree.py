"""Conversations as trees (services/chat.py, services/chat_tree.py): edits and regenerations
are siblings, nothing is deleted, the current leaf moves with the branch shown, the model sees
only that branch, comparisons end at a choice, and the options go on every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import Conversation, Message, MessageStatus, User
from app.services import chat
from app.services.chat_tree import Tree


@pytest.fixture
def app(make_app):
    return make_app(PARLOR_MOCK_VENDOR="1")


@pytest.fixture
def ctx(app, make_user):
    """An app context with a member and a conversation on mock/echo."""
    user_id = make_user()
    with app.app_context():
        user = db.session.get(User, user_id)
        yield SimpleNamespace(user=user, conversation=chat.start_conversation(user, "mock/echo"))


def answer(reply: Message, text: str | None = None) -> Message:
    """Finish a pending reply as its stream would (no vendor call needed for the tree)."""
    reply.status, reply.content = MessageStatus.COMPLETE, text or f"re: {reply.parent_id}"
    db.session.commit()
    return reply


def exchange(ctx, text: str) -> tuple[Message, Message]:
    message, reply = chat.send_message(ctx.user, ctx.conversation, text)
    return message, answer(reply, f"answer to {text}")


def shown(conversation: Conversation) -> list[str]:
    return [m.content for m in chat.messages_to_show(conversation)]


def row(id_, parent, seq, role="user", status="complete"):
    return SimpleNamespace(id=id_, parent_id=parent, seq=seq, role=role, status=status)


# -- the tree itself -----------------------------------------------------------------------------


def test_newest_leaf_under_a_version_is_its_newest_descendant():
    tree = Tree([row("a", None, 1), row("b", "a", 2, "assistant"), row("c", "b", 3),
                 row("d", "c", 4, "assistant"), row("b2", "a", 5, "assistant"),
                 row("c2", "b", 6), row("d2", "c2", 7, "assistant")])
    assert tree.newest_leaf("b") == "d2"
    assert tree.newest_leaf("b2") == "b2"
    assert [r.id for r in tree.path("d")] == ["a", "b", "c", "d"]
    versions = {s.id: (s.version, s.versions, s.previous_id, s.next_id)
                for s in tree.shown("d")}
    assert versions["b"] == (1, 2, None, "b2") and versions["c"] == (1, 2, None, "c2")
    assert versions["a"] == (1, 1, None, None)


def test_messages_stored_without_parents_read_as_one_branch():
    tree = Tree([row("x", None, 1), row("y", None, 2, "assistant"), row("z", None, 3)])
    assert [r.id for r in tree.path(None)] == ["x", "y", "z"]
    assert all(s.versions == 1 for s in tree.shown(None))


# -- sending, editing, regenerating -----------------------------------------------------------


def test_edit_of_an_earlier_message_keeps_the_old_branch_and_switching_back_shows_it(ctx):
    first, _ = exchange(ctx, "one")
    exchange(ctx, "two")
    old_leaf = ctx.conversation.current_leaf_id

    reply = chat.edit_message(ctx.conversation, first.id, "uno")
    answer(reply, "answer to uno")
    assert shown(ctx.conversation) == ["uno", "answer to uno"]
    assert len(chat.messages(ctx.conversation)) == 6  # nothing deleted
    edited = chat.messages_to_show(ctx.conversation)[0]
    assert (edited.version, edited.versions, edited.previous_id) == (2, 2, first.id)

    chat.show_version(ctx.conversation, first.id)
    assert ctx.conversation.current_leaf_id == old_leaf
    assert shown(ctx.conversation) == ["one", "answer to one", "two", "answer to two"]


def test_the_model_sees_only_the_branch_of_the_reply(ctx):
    first, _ = exchange(ctx, "one")
    exchange(ctx, "two")
    reply = chat.edit_message(ctx.conversation, first.id, "uno")
    assert [(m.role, m.content) for m in chat.history(ctx.conversation, reply)] == [
        ("user", "uno")]
    chat.configure(ctx.user, ctx.conversation, system_prompt="Be brief.")
    assert [m.content for m in chat.history(ctx.conversation, reply)] == ["Be brief.", "uno"]


def test_regenerate_any_reply_adds_a_sibling_with_the_current_model(ctx):
    _, first_reply = exchange(ctx, "one")
    exchange(ctx, "two")
    chat.configure(ctx.user, ctx.conversation, model="mock/lorem")
    redo = chat.regenerate(ctx.conversation, first_reply.id)
    assert redo.parent_id == first_reply.parent_id and redo.model == "mock/lorem"
    assert ctx.conversation.current_leaf_id == redo.id
    assert [m.id for m in chat.messages_to_show(ctx.conversation)][-1] == redo.id
    assert chat.message(ctx.conversation, first_reply.id).content == "answer to one"


def test_a_new_message_waits_for_the_reply_of_its_branch_only(ctx):
    first, _ = exchange(ctx, "one")
    chat.edit_message(ctx.conversation, first.id, "uno")  # its reply left pending
    with pytest.raises(chat.ChatError, match="still being written"):
        chat.send_message(ctx.user, ctx.conversation, "dos")
    chat.show_version(ctx.conversation, first.id)  # the pending reply is on the other branch
    message, _ = chat.send_message(ctx.user, ctx.conversation, "two")
    assert shown(ctx.conversation)[:3] == ["one", "answer to one", "two"]


def test_a_reply_cannot_be_edited_nor_a_question_regenerated(ctx):
    question, reply = exchange(ctx, "one")
    with pytest.raises(chat.ChatError):
        chat.edit_message(ctx.conversation, reply.id, "changed")
    with pytest.raises(chat.ChatError):
        chat.regenerate(ctx.conversation, question.id)
    with pytest.raises(chat.ChatError):
        chat.show_version(ctx.conversation, "not-a-message")


# -- comparing models ------------------------------------------------------------------------


def test_compare_ends_at_a_choice_and_use_this_reply_continues_from_it(ctx):
    exchange(ctx, "hello")
    question, replies = chat.compare(ctx.user, ctx.conversation, "which?",
                                     ["mock/echo", "mock/lorem"])
    assert [r.model for r in replies] == ["mock/echo", "mock/lorem"]
    assert all(r.parent_id == question.id for r in replies)
    assert ctx.conversation.current_leaf_id == question.id
    for reply in replies:
        answer(reply, f"from {reply.model}")
    _, choices = chat.branch_view(ctx.conversation)
    assert [c.id for c in choices] == [r.id for r in replies]
    with pytest.raises(chat.ChatError, match="Use this reply"):
        chat.send_message(ctx.user, ctx.conversation, "too early")

    chat.use_reply(ctx.conversation, replies[1].id)
    message, reply = chat.send_message(ctx.user, ctx.conversation, "go on")
    assert message.parent_id == replies[1].id
    assert [m.content for m in chat.history(ctx.conversation, reply)][-2:] == [
        "from mock/lorem", "go on"]
    picked = chat.messages_to_show(ctx.conversation)[3]
    assert (picked.version, picked.versions, picked.previous_id) == (2, 2, replies[0].id)


@pytest.mark.parametrize("models", [["mock/echo"], ["mock/echo", "mock/echo"],
                                    ["mock/echo", "mock/lorem", "mock/echo2", "mock/x"],
                                    ["mock/echo", "nope/never"]])
def test_compare_needs_two_or_three_known_models(ctx, models):
    with pytest.raises(chat.ChatError):
        chat.compare(ctx.user, ctx.conversation, "which?", models)
    chat.discard_changes()
    assert chat.messages(ctx.conversation) == []


def test_a_claimed_send_builds_the_vendor_request_the_stored_branch_gives(ctx):
    """send_and_claim builds the request from the rows it read to send; read back from the
    database afterwards, the branch gives the very same request (system prompt, the branch
    shown only, options)."""
    chat.update_conversation(ctx.user, ctx.conversation, system_prompt="Be brief.",
                             options={"temperature": 0.5, "max_tokens": 32})
    first, _ = exchange(ctx, "one")
    exchange(ctx, "two")
    edited = chat.edit_message(ctx.conversation, first.id, "one, edited")  # another branch
    answer(edited, "answer to the edit")
    claimed = chat.send_and_claim(ctx.user, ctx.conversation, "three", None,
                                  datetime.now(UTC) + timedelta(seconds=30))
    assert claimed.reply.status == MessageStatus.STREAMING  # claimed as it was stored
    assert [m.content for m in claimed.request.messages] == [
        "Be brief.", "one, edited", "answer to the edit", "three"]
    assert claimed.request == chat.reply_request(ctx.conversation, claimed.reply)


# -- options ------------------------------------------------------------------------------------


def test_options_are_stored_and_put_on_the_reply_request(ctx):
    chat.update_conversation(ctx.user, ctx.conversation, options={
        "temperature": 0.3, "max_tokens": 64, "reasoning_effort": "low"})
    _, reply = chat.send_message(ctx.user, ctx.conversation, "hi")
    request = chat.reply_request(ctx.conversation, reply)
    assert (request.temperature, request.max_tokens) == (0.3, 64)
    assert request.reasoning is None  # mock/echo takes no reasoning effort: stored, not sent
    assert ctx.conversation.options["reasoning_effort"] == "low"
    assert request.model == "mock/echo"

    chat.update_conversation(ctx.user, ctx.conversation, options={})
    request = chat.reply_request(ctx.conversation, reply)
    assert (request.temperature, request.max_tokens, request.reasoning) == (None, None, None)


@pytest.mark.parametrize("options", [{"temperature": 3}, {"temperature": "hot"},
                                     {"max_tokens": 0}, {"max_tokens": 1.5},
                                     {"reasoning_effort": "maximal"}, {"top_k": 5}])
def test_bad_options_are_refused_and_change_nothing(ctx, options):
    with pytest.raises(chat.ChatError):
        chat.update_conversation(ctx.user, ctx.conversation, options=options)
    assert ctx.conversation.options == {}


def test_renaming_marks_the_title_as_the_users(ctx):
    assert not ctx.conversation.title_renamed
    chat.rename(ctx.conversation, "Mine")
    assert ctx.conversation.title_renamed
