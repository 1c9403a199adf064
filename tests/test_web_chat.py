"""The first chat path in the browser: log in, start a conversation, send, get the stored reply."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Message, UsageRecord
from tests.conftest import PASSWORD, csrf_token, log_in


def _start_chat(client, model="mock/echo", message="Hello Parlor", system_prompt=""):
    token = csrf_token(client.get("/").get_data(as_text=True))
    return client.post("/c", data={"csrf_token": token, "model": model, "message": message,
                                   "system_prompt": system_prompt})


def test_login_page_has_labelled_email_password_and_log_in_button(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert ">Log in</button>" in html


def test_wrong_password_shows_inline_error_that_does_not_say_which_field(client, make_user):
    make_user("member@example.com")
    response = log_in(client, "member@example.com", "not the password")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Wrong e-mail or password." in html
    unknown = log_in(client, "nobody@example.com", PASSWORD).get_data(as_text=True)
    assert "Wrong e-mail or password." in unknown


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_send_message_stores_user_message_and_reply(backend_url, make_app):
    app = make_app(backend_url)
    client = app.test_client()
    with app.app_context():
        from app.services import accounts

        accounts.create_user("member@example.com", PASSWORD)
    assert log_in(client, "member@example.com").status_code == 302

    response = _start_chat(client, message="Hello **Parlor**")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-role="user"' in page and 'data-role="assistant"' in page
    assert "<strong>Parlor</strong>" in page  # the echo reply, rendered as Markdown

    with app.app_context():
        rows = db.session.scalars(select(Message).order_by(Message.seq)).all()
        assert [(m.role, m.content, m.status) for m in rows] == [
            ("user", "Hello **Parlor**", "complete"),
            ("assistant", "Hello **Parlor**", "complete"),
        ]
        usage = db.session.scalars(select(UsageRecord)).one()
        assert (usage.source, usage.status, usage.output_tokens) == ("web", "complete", 2)


def test_follow_up_message_sends_the_whole_history(member_client):
    location = _start_chat(member_client, message="first").headers["Location"]
    page = member_client.get(location).get_data(as_text=True)
    response = member_client.post(location + "/messages",
                                  data={"csrf_token": csrf_token(page), "message": "second"})
    assert response.status_code == 302
    page = member_client.get(location).get_data(as_text=True)
    assert page.count('data-role="user"') == 2 and page.count('data-role="assistant"') == 2


def test_reply_through_openai_vendor_from_environment(make_app, fake_vendor):
    app = make_app(OPENAI_BASE_URL=fake_vendor.openai_base_url, OPENAI_API_KEY=fake_vendor.api_key)
    client = app.test_client()
    with app.app_context():
        from app.services import accounts

        accounts.create_user("member@example.com", PASSWORD)
    log_in(client, "member@example.com")
    index = client.get("/").get_data(as_text=True)
    assert 'value="openai/fake-chat"' in index  # the vendor's discovered models are offered
    location = _start_chat(client, model="openai/gpt-test", message="ping").headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "Echo: ping" in page
    sent = [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")]
    assert sent and sent[-1].body["messages"][-1] == {"role": "user", "content": "ping"}


def test_vendor_failure_shows_inline_error_and_keeps_the_users_message(make_app, fake_vendor):
    app = make_app(OPENAI_BASE_URL=fake_vendor.openai_base_url, OPENAI_API_KEY=fake_vendor.api_key)
    client = app.test_client()
    with app.app_context():
        from app.services import accounts

        accounts.create_user("member@example.com", PASSWORD)
    log_in(client, "member@example.com")
    location = _start_chat(client, model="openai/error-500", message="keep me").headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "keep me" in page
    assert "unavailable right now" in page
    assert fake_vendor.api_key not in page
    with app.app_context():
        reply = db.session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert reply.status == "error"


def test_unknown_model_is_refused_inline(member_client):
    response = _start_chat(member_client, model="nope/none")
    assert response.status_code == 400
    assert "does not exist or you do not have access" in response.get_data(as_text=True)


def test_someone_elses_conversation_is_404(member_client, make_user, client):
    location = _start_chat(member_client).headers["Location"]
    member_client.post("/logout", data={"csrf_token": csrf_token(
        member_client.get("/").get_data(as_text=True))})
    make_user("other@example.com")
    log_in(client, "other@example.com")
    assert client.get(location).status_code == 404
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post(location + "/messages",
                       data={"csrf_token": token, "message": "hi"}).status_code == 404
    assert client.post(location + "/delete", data={"csrf_token": token}).status_code == 404


def test_send_without_csrf_token_is_refused(member_client, app):
    response = member_client.post("/c", data={"model": "mock/echo", "message": "hi"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Message)).all() == []


def test_delete_conversation_removes_its_messages(member_client, app):
    location = _start_chat(member_client).headers["Location"]
    token = csrf_token(member_client.get(location).get_data(as_text=True))
    assert member_client.post(location + "/delete", data={"csrf_token": token}).status_code == 302
    assert member_client.get(location).status_code == 404
    with app.app_context():
        assert db.session.scalars(select(Message)).all() == []


def test_password_change_ends_existing_sessions(member_client, app):
    assert member_client.get("/").status_code == 200
    with app.app_context():
        from app.repositories import accounts as repo

        user = repo.user_by_email("member@example.com")
        user.session_version += 1
        db.session.commit()
    assert member_client.get("/").status_code == 302


def test_disabled_user_cannot_log_in(client, make_user):
    make_user("off@example.com", is_enabled=False)
    assert "Wrong e-mail or password." in log_in(client, "off@example.com").get_data(as_text=True)


def test_member_gets_403_on_admin_and_admin_gets_dashboard(member_client, client, make_user):
    assert member_client.get("/admin/").status_code == 403
    member_client.post("/logout", data={"csrf_token": csrf_token(
        member_client.get("/").get_data(as_text=True))})
    make_user("boss@example.com", role="admin")
    log_in(client, "boss@example.com")
    assert client.get("/admin/").status_code == 200


def test_next_parameter_cannot_redirect_off_site(client, make_user):
    make_user("member@example.com")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x",
                           data={"csrf_token": token, "email": "member@example.com",
                                 "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_pages_carry_strict_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_missing_page_is_an_html_error_without_internals(client):
    response = client.get("/c/does-not-exist")
    assert response.status_code in (302, 404)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "text/html" in response.headers["Content-Type"]
    assert "Traceback" not in response.get_data(as_text=True)
