"""Sending with htmx, regenerate, edit, rename, search and export over the Flask test client."""

from __future__ import annotations

import json

import pytest

from app.repositories import accounts as accounts_repo
from app.services import accounts
from tests.conftest import PASSWORD, csrf_token, log_in
from tests.web.conftest import (
    add_conversation,
    finish_replies,
    read_stream,
    start_chat,
    stored_messages,
    stream_urls,
)

HTMX = {"HX-Request": "true"}


def _id(location: str) -> str:
    return location.rsplit("/", 1)[1]


def test_htmx_send_returns_the_message_list_with_a_live_reply(member_client, app):
    location = start_chat(member_client, message="first")
    page = finish_replies(member_client, location)

    response = member_client.post(location + "/messages", headers=HTMX,
                                  data={"csrf_token": csrf_token(page), "message": "second"})

    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.count('data-role="user"') == 2 and fragment.count("sse-connect=") == 1
    assert [m.status for m in stored_messages(app, _id(location))] == [
        "complete", "complete", "complete", "pending"]


def test_sending_while_a_reply_is_pending_is_refused_inline(member_client):
    location = start_chat(member_client, message="first")
    page = member_client.get(location).get_data(as_text=True)
    response = member_client.post(location + "/messages", headers=HTMX,
                                  data={"csrf_token": csrf_token(page), "message": "again"})
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#composer-error"
    assert "still being written" in response.get_data(as_text=True)


def test_model_and_system_prompt_can_change_with_a_message(member_client, app, fake_vendor):
    location = start_chat(member_client, message="first")
    page = finish_replies(member_client, location)
    member_client.post(location + "/messages", data={
        "csrf_token": csrf_token(page), "message": "second", "model": "openai/fake-chat",
        "system_prompt": "Be brief."})
    finish_replies(member_client, location)
    sent = [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1]
    assert sent.body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert stored_messages(app, _id(location))[-1].content == "Echo: second"


def test_regenerate_adds_a_version_of_the_last_reply_and_keeps_the_old_one(member_client, app):
    location = start_chat(member_client, message="again please")
    page = finish_replies(member_client, location)
    first_reply = stored_messages(app, _id(location))[-1]

    response = member_client.post(location + "/regenerate", headers=HTMX,
                                  data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200
    [url] = stream_urls(response.get_data(as_text=True))
    read_stream(member_client, url)

    question, old, new = stored_messages(app, _id(location))
    assert (old.id, old.content) == (first_reply.id, "again please")  # kept, as a branch
    assert new.parent_id == old.parent_id == question.id and new.content == "again please"
    page = member_client.get(location).get_data(as_text=True)
    assert page.count('data-role="assistant"') == 1 and f'id="m-{new.id}"' in page
    assert "2 / 2" in page and 'aria-label="Previous version"' in page


def test_edit_sends_a_new_version_and_keeps_the_old_branch(member_client, app):
    location = start_chat(member_client, message="typo heer")
    page = finish_replies(member_client, location)
    user_message = stored_messages(app, _id(location))[0]

    member_client.post(f"{location}/messages/{user_message.id}/edit",
                       data={"csrf_token": csrf_token(page), "message": "typo here"})
    finish_replies(member_client, location)

    assert [(m.role, m.content) for m in stored_messages(app, _id(location))] == [
        ("user", "typo heer"), ("assistant", "typo heer"),
        ("user", "typo here"), ("assistant", "typo here")]


def test_an_earlier_message_can_be_edited_and_the_model_sees_only_its_branch(
        member_client, app, fake_vendor):
    location = start_chat(member_client, model="openai/fake-chat", message="one")
    page = finish_replies(member_client, location)
    member_client.post(location + "/messages", data={"csrf_token": csrf_token(page),
                                                     "message": "two"})
    page = finish_replies(member_client, location)
    first = stored_messages(app, _id(location))[0]
    response = member_client.post(f"{location}/messages/{first.id}/edit", headers=HTMX,
                                  data={"csrf_token": csrf_token(page), "message": "changed"})
    assert response.status_code == 200
    page = finish_replies(member_client, location)

    sent = [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1]
    assert sent.body["messages"] == [{"role": "user", "content": "changed"}]
    assert stored_messages(app, _id(location))[0].content == "one"  # the old branch stays
    assert "two" not in page.split('id="messages"')[1].split('id="composer"')[0]


def test_rename_and_delete_conversation(member_client, app):
    location = start_chat(member_client)
    page = finish_replies(member_client, location)
    member_client.post(location + "/rename", data={"csrf_token": csrf_token(page),
                                                   "title": "  Trip   plans "})
    assert "<h1 id=\"chat-title\">Trip plans</h1>" in member_client.get(location).get_data(
        as_text=True)
    assert member_client.post(location + "/delete",
                              data={"csrf_token": csrf_token(page)}).status_code == 302
    assert member_client.get(location).status_code == 404


def test_export_as_markdown_and_json_downloads(member_client):
    location = start_chat(member_client, message="Export **me**")
    finish_replies(member_client, location)

    markdown = member_client.get(location + "/export.md")
    assert markdown.mimetype == "text/markdown"
    assert markdown.headers["Content-Disposition"] == 'attachment; filename="Export-me.md"'
    text = markdown.get_data(as_text=True)
    assert text.startswith("# Export **me**") and "## You\n\nExport **me**" in text

    document = member_client.get(location + "/export.json")
    assert document.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(document.get_data(as_text=True))
    assert [(m["role"], m["content"]) for m in data["messages"]] == [
        ("user", "Export **me**"), ("assistant", "Export **me**")]


def test_another_users_conversation_actions_are_404(member_client, make_user, app):
    location = start_chat(member_client)
    finish_replies(member_client, location)
    other = app.test_client()
    make_user("other@example.com")
    log_in(other, "other@example.com")
    token = csrf_token(other.get("/").get_data(as_text=True))
    for path in ("/export.md", "/export.json"):
        assert other.get(location + path).status_code == 404
    for path in ("/regenerate", "/rename", "/delete"):
        assert other.post(location + path, data={"csrf_token": token,
                                                 "title": "x"}).status_code == 404


def test_sidebar_pages_older_conversations(member_client, app):
    with app.app_context():
        user_id = accounts_repo.user_by_email("member@example.com").id
    for n in range(32):
        add_conversation(app, user_id, f"Chat number {n}", ["hi"])
    first = member_client.get("/").get_data(as_text=True)
    assert first.count("Chat number") == 30 and "Older conversations" in first
    more = member_client.get("/conversations?page=2", headers=HTMX).get_data(as_text=True)
    assert more.count("Chat number") == 2 and "Older conversations" not in more


@pytest.mark.parametrize("query", ['"unbalanced', "AND OR NOT (", "*", "'; DROP TABLE x; --",
                                   "near(a b)", "%_\\"])
def test_search_input_never_breaks_the_query(member_client, query):
    response = member_client.get("/search", query_string={"q": query}, headers=HTMX)
    assert response.status_code == 200


def test_search_finds_titles_and_message_text_of_own_conversations(backend_url, make_app):
    app = make_app(backend_url)
    with app.app_context():
        me = accounts.create_user("me@example.com", PASSWORD).id
        other = accounts.create_user("other@example.com", PASSWORD).id
    add_conversation(app, me, "Holiday", ["Where should we go?", "Try the Dolomites."])
    add_conversation(app, me, "Recipes", ["A quick pasta?", "Aglio e olio."])
    add_conversation(app, other, "Secret", ["Dolomites are private here"])
    client = app.test_client()
    log_in(client, "me@example.com")

    def titles(query: str) -> list[str]:
        html = client.get("/search", query_string={"q": query}, headers=HTMX).get_data(
            as_text=True)
        return [t for t in ("Holiday", "Recipes", "Secret") if f">{t}</a>" in html]

    assert titles("dolomites") == ["Holiday"]  # message text, own conversations only
    assert titles("dolo") == ["Holiday"]  # prefix
    assert titles("recip") == ["Recipes"]  # title
    assert titles("pasta aglio") == []  # every word must match one message
    assert titles("olio") == ["Recipes"]
    assert "Try the Dolomites." in client.get("/search?q=dolomites").get_data(as_text=True)


def test_case4_exports_are_inert_attachments_named_by_the_server(member_client):
    location = start_chat(member_client, message="../../app/static/x.js <script>alert(1)</script>")
    finish_replies(member_client, location)
    for path, mimetype in (("/export.md", "text/markdown"), ("/export.json", "application/json")):
        response = member_client.get(location + path)
        disposition = response.headers["Content-Disposition"]
        assert response.mimetype == mimetype  # never text/html
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert disposition.startswith("attachment;")
        filename = disposition.split("filename=", 1)[1]
        assert "/" not in filename and ".." not in filename and "<" not in filename
