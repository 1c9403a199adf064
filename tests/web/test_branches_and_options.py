"""Branches, Compare, the Options panel and exports over the Flask test client (the browser
walks through them in test_branches_browser.py)."""

from __future__ import annotations

import json

from tests.conftest import csrf_token
from tests.web.conftest import finish_replies, start_chat, stored_messages, stream_urls

HTMX = {"HX-Request": "true"}


def _id(location: str) -> str:
    return location.rsplit("/", 1)[1]


def _last_request(fake_vendor) -> dict:
    return [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1].body


def test_options_panel_values_are_stored_and_sent_with_every_reply(member_client, app,
                                                                   fake_vendor):
    location = start_chat(member_client, model="openai/deep-reasoning", message="one")
    page = finish_replies(member_client, location)
    assert "<summary>Options</summary>" in page
    member_client.post(location + "/messages", headers=HTMX, data={
        "csrf_token": csrf_token(page), "message": "two", "model": "openai/deep-reasoning",
        "system_prompt": "Be brief.", "temperature": "0.4", "max_tokens": "77",
        "reasoning_effort": "low"})
    page = finish_replies(member_client, location)
    sent = _last_request(fake_vendor)
    assert (sent["temperature"], sent["reasoning_effort"]) == (0.4, "low")
    assert sent.get("max_completion_tokens", sent.get("max_tokens")) == 77
    assert 'value="0.4"' in page and 'value="77"' in page  # the panel shows what is stored

    member_client.post(location + "/regenerate", headers=HTMX,
                       data={"csrf_token": csrf_token(page)})  # no Options fields: kept
    finish_replies(member_client, location)
    assert _last_request(fake_vendor)["temperature"] == 0.4


def test_an_option_out_of_range_is_an_inline_error(member_client, app):
    location = start_chat(member_client, message="one")
    page = finish_replies(member_client, location)
    response = member_client.post(location + "/messages", headers=HTMX, data={
        "csrf_token": csrf_token(page), "message": "two", "temperature": "9"})
    assert response.status_code == 422
    assert "Temperature goes from 0 to 2." in response.get_data(as_text=True)
    assert len(stored_messages(app, _id(location))) == 2


def test_compare_streams_one_reply_per_model_and_use_this_reply_continues(member_client, app):
    location = start_chat(member_client, message="hello")
    page = finish_replies(member_client, location)
    response = member_client.post(location + "/messages", headers=HTMX, data={
        "csrf_token": csrf_token(page), "message": "which one?", "intent": "compare",
        "compare_models": ["mock/echo", "mock/lorem"]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(stream_urls(html)) == 2 and html.count(">Use this reply</button>") == 2
    page = finish_replies(member_client, location)
    replies = stored_messages(app, _id(location))[-2:]
    assert [r.model for r in replies] == ["mock/echo", "mock/lorem"]
    assert all(r.status == "complete" for r in replies)

    picked = member_client.post(f"{location}/messages/{replies[1].id}/use", headers=HTMX,
                                data={"csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert "Use this reply" not in picked and "2 / 2" in picked
    member_client.post(location + "/messages", headers=HTMX,
                       data={"csrf_token": csrf_token(page), "message": "go on"})
    finish_replies(member_client, location)
    follow_up = stored_messages(app, _id(location))[-2]
    assert (follow_up.content, follow_up.parent_id) == ("go on", replies[1].id)


def test_compare_with_one_model_ticked_adds_the_model_picked(member_client, app):
    location = start_chat(member_client, message="hello")
    page = finish_replies(member_client, location)
    member_client.post(location + "/messages", headers=HTMX, data={
        "csrf_token": csrf_token(page), "message": "which?", "intent": "compare",
        "model": "mock/echo", "compare_models": ["mock/lorem"]})
    assert [m.model for m in stored_messages(app, _id(location))[-2:]] == [
        "mock/echo", "mock/lorem"]
    response = member_client.post(location + "/messages", headers=HTMX, data={
        "csrf_token": csrf_token(page), "message": "again", "intent": "compare",
        "model": "mock/echo", "compare_models": ["mock/echo"]})
    assert response.status_code == 422
    assert "Pick 2 or 3 different models" in response.get_data(as_text=True)


def test_version_buttons_switch_branches(member_client, app):
    location = start_chat(member_client, message="first")
    page = finish_replies(member_client, location)
    first = stored_messages(app, _id(location))[0]
    member_client.post(f"{location}/messages/{first.id}/edit",
                       data={"csrf_token": csrf_token(page), "message": "second"})
    page = finish_replies(member_client, location)
    assert "2 / 2" in page and 'aria-label="Next version" title="Next version" disabled' in page

    back = member_client.post(f"{location}/messages/{first.id}/show", headers=HTMX,
                              data={"csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert "1 / 2" in back and ">first<" in back.replace("<p>", ">").replace("</p>", "<")
    assert member_client.post(f"{location}/messages/nope/show", headers=HTMX,
                              data={"csrf_token": csrf_token(page)}).status_code == 404


def test_exports_carry_the_tree_as_json_and_the_branch_shown_as_markdown(member_client, app):
    location = start_chat(member_client, message="old question")
    page = finish_replies(member_client, location)
    first = stored_messages(app, _id(location))[0]
    member_client.post(f"{location}/messages/{first.id}/edit",
                       data={"csrf_token": csrf_token(page), "message": "new question"})
    finish_replies(member_client, location)
    stored = stored_messages(app, _id(location))

    document = json.loads(member_client.get(location + "/export.json").get_data(as_text=True))
    assert [(m["id"], m["parent_id"]) for m in document["messages"]] == [
        (m.id, m.parent_id) for m in stored]
    assert document["current_leaf_id"] == stored[-1].id
    markdown = member_client.get(location + "/export.md").get_data(as_text=True)
    assert "new question" in markdown and "old question" not in markdown.split("## You")[1]


def test_the_edit_form_is_fetched_for_the_users_messages_only(member_client, app):
    location = start_chat(member_client, message="fix me")
    page = finish_replies(member_client, location)
    question, reply = stored_messages(app, _id(location))
    assert 'name="message" rows="3"' not in page  # no prefilled forms on the page itself
    form = member_client.get(f"{location}/messages/{question.id}/edit", headers=HTMX)
    assert form.status_code == 200 and ">fix me</textarea>" in form.get_data(as_text=True)
    assert member_client.get(f"{location}/messages/{reply.id}/edit",
                             headers=HTMX).status_code == 404


def test_a_long_conversation_page_reads_the_tree_in_a_fixed_number_of_queries(
        member_client, app):
    from sqlalchemy import event

    from app.extensions import db

    location = start_chat(member_client, message="q0")
    finish_replies(member_client, location)
    statements: list[str] = []
    for n in (1, 40):
        for i in range(n):
            member_client.post(location + "/messages", headers=HTMX, data={
                "csrf_token": csrf_token(member_client.get(location).get_data(as_text=True)),
                "message": f"q{i}"})
            finish_replies(member_client, location)
        with app.app_context():
            engine = db.engine
        statements.clear()
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert member_client.get(location).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        if n == 1:
            few = len(statements)
    assert len(statements) == few  # 4 messages or 84: the same queries


def test_a_new_chat_can_start_with_compare_and_a_refused_one_leaves_nothing(member_client, app):
    token = csrf_token(member_client.get("/").get_data(as_text=True))
    response = member_client.post("/c", data={
        "csrf_token": token, "model": "mock/echo", "message": "first, compared",
        "intent": "compare", "compare_models": ["mock/echo", "mock/lorem"]})
    assert response.status_code == 302
    location = response.headers["Location"]
    page = member_client.get(location).get_data(as_text=True)
    assert page.count(">Use this reply</button>") == 2 and len(stream_urls(page)) == 2

    refused = member_client.post("/c", data={
        "csrf_token": token, "model": "mock/echo", "message": "alone",
        "intent": "compare", "compare_models": ["mock/echo"]})
    assert refused.status_code == 400 and "Pick 2 or 3" in refused.get_data(as_text=True)
    listing = member_client.get("/conversations").get_data(as_text=True)
    assert "alone" not in listing and "first, compared" in listing


def test_another_users_branch_actions_are_404_and_change_nothing(member_client, make_user, app):
    from tests.conftest import log_in

    location = start_chat(member_client, message="mine")
    finish_replies(member_client, location)
    question, reply = stored_messages(app, _id(location))
    other = app.test_client()
    make_user("other@example.com")
    log_in(other, "other@example.com")
    token = csrf_token(other.get("/").get_data(as_text=True))
    assert other.get(f"{location}/messages/{question.id}/edit").status_code == 404
    for path in (f"/messages/{question.id}/show", f"/messages/{reply.id}/use",
                 f"/messages/{reply.id}/regenerate", f"/messages/{question.id}/edit"):
        assert other.post(location + path, data={"csrf_token": token,
                                                 "message": "x"}).status_code == 404
    assert len(stored_messages(app, _id(location))) == 2
