"""Monthly token budgets per user (overriding the role's) and per API key (a cap on what is
spent through that key, on top of the owner's): enforced before the vendor call on /v1, the
REST API and the chat, set by admins on screens and through the admin API, shown to users."""

from __future__ import annotations

import html
import re

import flask_migrate
import pytest
from sqlalchemy import event, inspect, select, text

import config
from app import create_app
from app.extensions import db
from app.models import AuditEvent, Message
from app.repositories import accounts as accounts_repo
from app.services import budgets, usage
from app.vendors import Usage
from tests.admin.conftest import post_form
from tests.conftest import csrf_token, log_in

CHAT = {"model": "openai/fake-chat", "messages": [{"role": "user", "content": "hello there"}]}
ANTHROPIC_CHAT = {"model": "anthropic/fake-chat", "max_tokens": 20,
                  "messages": [{"role": "user", "content": "hi"}]}
MEMBER = "member@example.com"
ADMIN = "admin@example.com"


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(OPENAI_BASE_URL=fake_vendor.openai_base_url,
                    OPENAI_API_KEY=fake_vendor.api_key,
                    ANTHROPIC_BASE_URL=fake_vendor.anthropic_base_url,
                    ANTHROPIC_API_KEY=fake_vendor.api_key)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def key_id(app, secret: str) -> int:
    with app.app_context():
        return accounts_repo.key_by_prefix("-".join(secret.split("-")[:2])).id


def user_id(app, email: str) -> int:
    with app.app_context():
        return accounts_repo.user_by_email(email).id


def set_budgets(app, *, role: int | None = None, email: str = MEMBER, user: int | None = None,
                key: str | None = None, key_budget: int | None = None) -> None:
    """The member role's, the user's and (with ``key``) a key's monthly budgets."""
    with app.app_context():
        accounts_repo.role_by_name("member").monthly_token_budget = role
        accounts_repo.user_by_email(email).monthly_token_budget = user
        if key is not None:
            accounts_repo.key_by_id(key_id(app, key)).monthly_token_budget = key_budget
        db.session.commit()


def spend(app, email: str, tokens: int, secret: str | None = None) -> None:
    """Write ``tokens`` spent this month to the ledger, through the key ``secret`` if given."""
    with app.app_context():
        usage.record(user_id=user_id(app, email), model="openai/fake-chat", route=None,
                     usage=Usage(input_tokens=tokens), latency_ms=1, status="complete",
                     source="api", api_key_id=key_id(app, secret) if secret else None)
        db.session.commit()


def assert_insufficient_quota(response, words: str) -> dict:
    assert response.status_code == 429, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert words in error["message"]
    assert int(response.headers["Retry-After"]) > 0
    return error


# -- the user's own budget overrides the role's ------------------------------------------------


def test_users_own_budget_lifts_a_spent_role_budget(app, make_key, fake_vendor):
    secret = make_key(MEMBER)
    spend(app, MEMBER, 100)
    set_budgets(app, role=50)
    assert_insufficient_quota(app.test_client().post("/v1/chat/completions", json=CHAT,
                                                     headers=bearer(secret)), "You have used")

    set_budgets(app, role=50, user=1_000)
    response = app.test_client().post("/v1/chat/completions", json=CHAT, headers=bearer(secret))

    assert response.status_code == 200
    assert fake_vendor.requests_for("fake-chat")


def test_users_own_budget_lowers_an_unlimited_role_before_any_vendor_call(app, make_key,
                                                                          fake_vendor):
    secret = make_key(MEMBER)
    other = make_key("other@example.com")
    set_budgets(app, role=None, user=0)

    error = assert_insufficient_quota(
        app.test_client().post("/v1/chat/completions", json=CHAT, headers=bearer(secret)),
        "You have used this month's token budget of 0 tokens")

    assert "API key" not in error["message"]
    assert fake_vendor.requests_for("fake-chat") == []
    assert app.test_client().post("/v1/chat/completions", json=CHAT,
                                  headers=bearer(other)).status_code == 200


def test_clearing_the_users_budget_brings_back_the_roles(app, make_key):
    secret = make_key(MEMBER)
    spend(app, MEMBER, 100)
    set_budgets(app, role=50, user=1_000)
    with app.app_context():
        assert budgets.status(accounts_repo.user_by_email(MEMBER)).source == "user"

    set_budgets(app, role=50, user=None)

    with app.app_context():
        current = budgets.status(accounts_repo.user_by_email(MEMBER))
    assert (current.budget, current.source, current.remaining) == (50, "role", 0)
    assert_insufficient_quota(app.test_client().post("/v1/chat/completions", json=CHAT,
                                                     headers=bearer(secret)), "You have used")


# -- a key's budget caps what is spent through that key ----------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_spent_key_budget_gets_429_insufficient_quota_while_the_owners_other_key_works(
        app, make_key, fake_vendor, stream):
    capped, other = make_key(MEMBER), make_key(MEMBER)
    set_budgets(app, key=capped, key_budget=5)
    client = app.test_client()
    first = client.post("/v1/chat/completions", json=CHAT, headers=bearer(capped))
    assert first.status_code == 200  # the call that crosses the line still finishes
    calls = len(fake_vendor.requests)

    refused = client.post("/v1/chat/completions", json=CHAT | {"stream": stream},
                          headers=bearer(capped))

    error = assert_insufficient_quota(refused, "This API key has used its monthly token budget")
    assert "use another key" in error["message"]
    assert refused.headers["x-should-retry"] == "false"
    assert len(fake_vendor.requests) == calls
    assert client.post("/v1/chat/completions", json=CHAT | {"stream": stream},
                       headers=bearer(other)).status_code == 200


def test_spent_key_budget_on_v1_messages_answers_in_anthropic_shape(app, make_key, fake_vendor):
    capped, other = make_key(MEMBER), make_key(MEMBER)
    set_budgets(app, key=capped, key_budget=10)
    spend(app, MEMBER, 10, capped)
    calls = len(fake_vendor.requests)

    refused = app.test_client().post("/v1/messages", headers={"x-api-key": capped},
                                     json=ANTHROPIC_CHAT)

    assert refused.status_code == 429
    body = refused.get_json()
    assert (body["type"], body["error"]["type"]) == ("error", "rate_limit_error")
    assert "This API key has used its monthly token budget of 10 tokens" in \
        body["error"]["message"]
    assert len(fake_vendor.requests) == calls
    assert app.test_client().post("/v1/messages", headers={"x-api-key": other},
                                  json=ANTHROPIC_CHAT).status_code == 200


def test_key_budget_counts_only_tokens_spent_through_that_key(app, make_key):
    capped, other = make_key(MEMBER), make_key(MEMBER)
    set_budgets(app, key=capped, key_budget=100)
    spend(app, MEMBER, 500, other)  # the owner's other key and the chat do not count
    spend(app, MEMBER, 500)
    spend(app, MEMBER, 60, capped)

    with app.app_context():
        current = budgets.key_status(accounts_repo.key_by_id(key_id(app, capped)))
    assert (current.budget, current.used, current.remaining) == (100, 60, 40)
    assert app.test_client().post("/v1/chat/completions", json=CHAT,
                                  headers=bearer(capped)).status_code == 200


def test_the_owners_spent_budget_refuses_every_key_even_one_with_room(app, make_key):
    capped = make_key(MEMBER)
    set_budgets(app, role=None, user=10, key=capped, key_budget=1_000)
    spend(app, MEMBER, 10)

    assert_insufficient_quota(app.test_client().post("/v1/chat/completions", json=CHAT,
                                                     headers=bearer(capped)), "You have used")


# -- no budget, no query ------------------------------------------------------------------------


class Statements:
    """The SQL statements the app runs while counting."""

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement)


@pytest.fixture
def statements(app):
    seen = Statements()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
    yield seen
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", seen)


def test_budget_check_makes_no_query_when_no_budget_applies_and_one_per_budget_that_does(
        app, make_key, statements):
    secret = make_key(MEMBER)
    with app.app_context():
        user = accounts_repo.user_by_email(MEMBER)
        key = accounts_repo.key_by_id(key_id(app, secret))
        user.role.name, key.prefix  # noqa: B018 - loaded, as the API caller has them
        statements.seen.clear()
        budgets.check(user, key)
        unlimited = list(statements.seen)
        with db.session.no_autoflush:
            user.monthly_token_budget, key.monthly_token_budget = 100, 100
            budgets.check(user, key)
        db.session.rollback()

    assert unlimited == []
    assert len(statements.seen) == 2 and all("usage_daily" in s for s in statements.seen)


def test_unlimited_api_call_reads_no_usage_before_the_vendor(app, make_key, statements):
    secret = make_key(MEMBER)
    client = app.test_client()
    client.post("/v1/chat/completions", json=CHAT, headers=bearer(secret))  # last_used written
    statements.seen.clear()

    assert client.post("/v1/chat/completions", json=CHAT,
                       headers=bearer(secret)).status_code == 200

    reads = [s for s in statements.seen if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in reads if "usage_daily" in s or "usage_records" in s]


def test_an_api_call_reads_the_database_once_the_key_with_its_owner_and_role(
        app, make_key, statements):
    client = app.test_client()
    client.post("/v1/chat/completions", json=CHAT, headers=bearer(make_key(MEMBER)))  # catalog
    secret = make_key(MEMBER)  # a key not seen yet
    statements.seen.clear()

    assert client.post("/v1/chat/completions", json=CHAT,
                       headers=bearer(secret)).status_code == 200

    reads = [s for s in statements.seen if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1  # issue 7's hot path: one indexed query per request
    assert all(table in reads[0] for table in ("api_keys", "users", "roles"))


def test_a_key_used_again_is_not_read_again_until_access_changes(app, make_key, statements):
    client = app.test_client()
    secret = make_key(MEMBER)
    client.post("/v1/chat/completions", json=CHAT, headers=bearer(secret))  # catalog, last_used
    statements.seen.clear()

    for _ in range(3):
        assert client.post("/v1/chat/completions", json=CHAT,
                           headers=bearer(secret)).status_code == 200
    assert not [s for s in statements.seen if s.lstrip().upper().startswith("SELECT")]

    make_key("someone-else@example.com")  # any committed change to keys, users or roles
    assert client.post("/v1/chat/completions", json=CHAT,
                       headers=bearer(secret)).status_code == 200
    reads = [s for s in statements.seen if s.lstrip().upper().startswith("SELECT")]
    assert [s for s in reads if "api_keys" in s and "roles" in s]


# -- the REST API and the chat ------------------------------------------------------------------


def _rest_send(client, headers: dict) -> dict:
    conversation = client.post("/api/v1/conversations", json={"model": "openai/fake-chat"},
                               headers=headers).get_json()["data"]
    response = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                           json={"content": "hi"}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]["reply"]


def test_rest_send_with_a_spent_key_is_refused_in_the_reply_while_another_key_works(
        app, make_key, fake_vendor):
    capped, other = make_key(MEMBER), make_key(MEMBER)
    set_budgets(app, key=capped, key_budget=3)
    spend(app, MEMBER, 3, capped)
    client = app.test_client()

    refused = _rest_send(client, bearer(capped))

    assert refused["status"] == "error"
    assert "This API key has used its monthly token budget of 3 tokens" in refused["error"]
    assert fake_vendor.requests_for("fake-chat") == []
    assert _rest_send(client, bearer(other))["status"] == "complete"


def test_rest_send_by_a_user_over_their_own_budget_is_refused(app, make_key, fake_vendor):
    secret = make_key(MEMBER)
    set_budgets(app, role=None, user=0)

    refused = _rest_send(app.test_client(), bearer(secret))

    assert refused["status"] == "error" and "You have used" in refused["error"]
    assert fake_vendor.requests_for("fake-chat") == []


def test_chat_send_over_the_users_own_budget_is_refused_inline(app, make_key, fake_vendor):
    make_key(MEMBER)
    set_budgets(app, role=None, user=0)
    client = app.test_client()
    log_in(client, MEMBER)
    token = csrf_token(client.get("/").get_data(as_text=True))

    page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                   "message": "hi"}, follow_redirects=True)
    finals = "".join(client.get(url).get_data(as_text=True) for url in
                     re.findall(r'sse-connect="([^"]+)"', page.get_data(as_text=True)))

    assert "token budget of 0 tokens" in finals
    assert fake_vendor.requests_for("fake-chat") == []
    with app.app_context():
        reply = db.session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert reply.status == "error"


def test_a_key_budget_does_not_limit_the_owners_chat(app, make_key):
    capped = make_key(MEMBER)
    set_budgets(app, key=capped, key_budget=0)
    client = app.test_client()
    log_in(client, MEMBER)
    token = csrf_token(client.get("/").get_data(as_text=True))

    page = client.post("/c", data={"csrf_token": token, "model": "openai/fake-chat",
                                   "message": "hi"}, follow_redirects=True)
    for url in re.findall(r'sse-connect="([^"]+)"', page.get_data(as_text=True)):
        client.get(url).get_data()

    with app.app_context():
        reply = db.session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert reply.status == "complete"


# -- shown to the user --------------------------------------------------------------------------


def test_settings_page_shows_the_effective_budget_its_source_and_each_keys_budget(
        app, make_key):
    capped, plain = make_key(MEMBER), make_key(MEMBER)
    set_budgets(app, role=100, user=2_000, key=capped, key_budget=500)
    spend(app, MEMBER, 120, capped)
    spend(app, MEMBER, 30, plain)
    client = app.test_client()
    log_in(client, MEMBER)

    page = client.get("/settings/").get_data(as_text=True)

    assert "<strong>1,850</strong> of 2,000 tokens left this month" in page
    assert "An administrator set this budget for you." in page
    cells = re.findall(r'<td class="key-budget">([^<]*)', page)
    assert sorted(cells) == ["120 of 500", "30"]

    set_budgets(app, role=100, user=None, key=capped, key_budget=500)
    page = client.get("/settings/").get_data(as_text=True)
    assert "<strong>0</strong> of 100 tokens left this month" in page
    assert "The budget of your role, member." in page


def test_me_shows_the_users_budget_and_the_calling_keys(app, make_key):
    capped = make_key(MEMBER)
    set_budgets(app, role=100, user=None, key=capped, key_budget=50)
    spend(app, MEMBER, 20, capped)

    me = app.test_client().get("/api/v1/me", headers=bearer(capped)).get_json()["data"]

    assert {k: me["budget"][k] for k in ("tokens", "source", "used", "remaining")} == \
        {"tokens": 100, "source": "role", "used": 20, "remaining": 80}
    assert {k: me["key_budget"][k] for k in ("tokens", "source", "used", "remaining")} == \
        {"tokens": 50, "source": "key", "used": 20, "remaining": 30}
    session = app.test_client()
    log_in(session, MEMBER)
    assert session.get("/api/v1/me").get_json()["data"]["key_budget"] is None


# -- admin screens ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(app, make_key):
    make_key(ADMIN, role="admin")
    client = app.test_client()
    log_in(client, ADMIN)
    return client


def audit_actions(app) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(e.action, e.detail) for e in
                db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_admin_sets_and_clears_a_users_budget_on_their_page(app, admin_client, make_key):
    make_key(MEMBER)
    member = user_id(app, MEMBER)
    page = f"/admin/users/{member}"

    saved = post_form(admin_client, page, f"{page}/budget", {"monthly_token_budget": "25000"},
                      follow_redirects=True)
    assert "now has a monthly budget of 25,000 tokens" in saved.get_data(as_text=True)
    assert "25,000 (their own)" in admin_client.get(page).get_data(as_text=True)
    cleared = post_form(admin_client, page, f"{page}/budget", {"monthly_token_budget": ""},
                        follow_redirects=True)
    assert "now has the role's monthly budget" in html.unescape(cleared.get_data(as_text=True))

    with app.app_context():
        assert accounts_repo.user_by_id(member).monthly_token_budget is None
    changes = [d for a, d in audit_actions(app) if a == "user.budget_changed"]
    assert [(d["before"], d["after"]) for d in changes] == [(None, 25000), (25000, None)]


@pytest.mark.parametrize(("value", "message"), [
    ("-1", "The monthly budget is a number of tokens, 0 to 2,147,483,647."),
    (str(2**31), "The monthly budget is a number of tokens, 0 to 2,147,483,647."),
    ("lots", "Not a valid integer value."),
    ("1.5", "Not a valid integer value."),
])
def test_admin_user_budget_form_refuses_bad_values_with_a_clear_error(app, admin_client,
                                                                     make_key, value, message):
    make_key(MEMBER)
    page = f"/admin/users/{user_id(app, MEMBER)}"

    response = post_form(admin_client, page, f"{page}/budget", {"monthly_token_budget": value})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert accounts_repo.user_by_email(MEMBER).monthly_token_budget is None


def test_admin_creates_a_key_with_a_budget_then_changes_and_clears_it(app, admin_client,
                                                                       make_key):
    make_key(MEMBER)
    created = post_form(admin_client, "/admin/keys/", "/admin/keys/",
                        {"email": MEMBER, "name": "capped", "monthly_token_budget": "900"})
    assert created.status_code == 200
    secret = created.get_data(as_text=True).split('id="new-secret" value="')[1].split('"')[0]
    key = key_id(app, secret)
    page = f"/admin/keys/{key}"
    assert "900;" in admin_client.get(page).get_data(as_text=True)

    changed = post_form(admin_client, page, f"{page}/budget", {"monthly_token_budget": "50"},
                        follow_redirects=True)
    assert "may spend 50 tokens a month" in changed.get_data(as_text=True)
    refused = post_form(admin_client, page, f"{page}/budget", {"monthly_token_budget": "-5"})
    assert refused.status_code == 400
    assert "The monthly budget is a number of tokens" in refused.get_data(as_text=True)
    cleared = post_form(admin_client, page, f"{page}/budget", {"monthly_token_budget": ""},
                        follow_redirects=True)
    assert "has no monthly budget of its own" in cleared.get_data(as_text=True)

    with app.app_context():
        assert accounts_repo.key_by_id(key).monthly_token_budget is None
    actions = audit_actions(app)
    assert [d["monthly_token_budget"] for a, d in actions if a == "key.created"][-1] == 900
    assert [(d["before"], d["after"]) for a, d in actions if a == "key.budget_changed"] == \
        [(900, 50), (50, None)]
    assert admin_client.get("/admin/keys/999999").status_code == 404


def test_admin_key_creation_refuses_a_bad_budget_inline(app, admin_client, make_key):
    make_key(MEMBER)
    response = post_form(admin_client, "/admin/keys/", "/admin/keys/",
                         {"email": MEMBER, "monthly_token_budget": "-1"})

    assert response.status_code == 400
    assert "The monthly budget is a number of tokens" in response.get_data(as_text=True)


# -- admin API ----------------------------------------------------------------------------------

API = "/api/v1/admin"


@pytest.fixture
def admin_api(app, make_key):
    headers = bearer(make_key(ADMIN, role="admin"))
    client = app.test_client()

    def call(method: str, path: str, **kwargs):
        return client.open(API + path, method=method.upper(), headers=headers, **kwargs)

    return call


def test_admin_api_sets_and_clears_a_users_budget(app, admin_api, make_key):
    make_key(MEMBER)
    member = user_id(app, MEMBER)

    patched = admin_api("patch", f"/users/{member}", json={"monthly_token_budget": 7000})
    assert patched.status_code == 200
    assert patched.get_json()["data"]["monthly_token_budget"] == 7000
    renamed = admin_api("patch", f"/users/{member}", json={"display_name": "Mem"})
    assert renamed.get_json()["data"]["monthly_token_budget"] == 7000  # not sent: unchanged
    cleared = admin_api("patch", f"/users/{member}", json={"monthly_token_budget": None})
    assert cleared.get_json()["data"]["monthly_token_budget"] is None

    assert [(d["before"], d["after"]) for a, d in audit_actions(app)
            if a == "user.budget_changed"] == [(None, 7000), (7000, None)]


@pytest.mark.parametrize("value", [-1, 2**31, "100", True, 1.5])
def test_admin_api_refuses_bad_budgets_naming_the_field(app, admin_api, make_key, value):
    secret = make_key(MEMBER)

    for path in (f"/users/{user_id(app, MEMBER)}", f"/keys/{key_id(app, secret)}"):
        response = admin_api("patch", path, json={"monthly_token_budget": value})
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["error"]["details"][0]["field"] == "monthly_token_budget"
    created = admin_api("post", "/keys", json={"user_id": user_id(app, MEMBER),
                                               "monthly_token_budget": value})
    assert created.status_code == 400


def test_admin_api_creates_a_key_with_a_budget_then_changes_and_clears_it(app, admin_api,
                                                                          make_key):
    make_key(MEMBER)
    created = admin_api("post", "/keys", json={"user_id": user_id(app, MEMBER),
                                               "monthly_token_budget": 1200})
    assert created.status_code == 201
    key = created.get_json()["data"]
    assert key["monthly_token_budget"] == 1200

    patched = admin_api("patch", f"/keys/{key['id']}", json={"monthly_token_budget": 10})
    assert patched.status_code == 200 and patched.get_json()["data"]["monthly_token_budget"] == 10
    unchanged = admin_api("patch", f"/keys/{key['id']}", json={})
    assert unchanged.get_json()["data"]["monthly_token_budget"] == 10
    cleared = admin_api("patch", f"/keys/{key['id']}", json={"monthly_token_budget": None})
    assert cleared.get_json()["data"]["monthly_token_budget"] is None
    listed = admin_api("get", "/keys").get_json()["data"]
    assert next(k for k in listed if k["id"] == key["id"])["monthly_token_budget"] is None

    assert admin_api("patch", "/keys/999999", json={}).status_code == 404
    assert admin_api("patch", f"/keys/{key['id']}", json={"rate": 1}).status_code == 400
    assert [(d["before"], d["after"]) for a, d in audit_actions(app)
            if a == "key.budget_changed"] == [(1200, 10), (10, None)]


def test_admin_api_key_budget_is_enforced_on_v1(app, admin_api, make_key):
    make_key(MEMBER)
    created = admin_api("post", "/keys", json={"user_id": user_id(app, MEMBER),
                                               "monthly_token_budget": 0}).get_json()["data"]

    assert_insufficient_quota(
        app.test_client().post("/v1/chat/completions", json=CHAT,
                               headers=bearer(created["secret"])),
        "This API key has used its monthly token budget of 0 tokens")


# -- migration 0007 -----------------------------------------------------------------------------


def _columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def test_migration_0007_adds_and_drops_the_budget_columns(backend_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", backend_url)
    app = create_app(config.TestingConfig())
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade(revision="0006")
        assert "monthly_token_budget" not in _columns("users") | _columns("api_keys")
        with db.engine.begin() as connection:  # a row from before, to carry over
            connection.execute(text(
                "INSERT INTO roles (name, description, builtin, permissions, created_at) "
                "VALUES ('member', '', true, '[]', CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO users (email, display_name, password_hash, role_id, is_enabled, "
                "session_version, created_at) SELECT 'old@example.com', '', 'x', id, true, 1, "
                "CURRENT_TIMESTAMP FROM roles"))

        flask_migrate.upgrade(revision="0007")
        assert "monthly_token_budget" in _columns("users")
        assert "monthly_token_budget" in _columns("api_keys")
        with db.engine.begin() as connection:
            assert connection.execute(text(
                "SELECT monthly_token_budget FROM users")).scalar_one() is None
            connection.execute(text("UPDATE users SET monthly_token_budget = 5"))

        flask_migrate.downgrade(revision="0006")
        assert "monthly_token_budget" not in _columns("users") | _columns("api_keys")
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT email FROM users")).scalar_one() == \
                "old@example.com"
        flask_migrate.upgrade()
        assert "monthly_token_budget" in _columns("users")
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM users"))
            connection.execute(text("DELETE FROM roles"))
        flask_migrate.downgrade(revision="base")
        db.engine.dispose()


# -- in the browser -----------------------------------------------------------------------------


def test_admin_sets_budgets_in_the_browser_and_the_member_sees_them_in_settings(
        app, page, live_server, make_key, screenshot):
    from playwright.sync_api import expect

    from tests.admin.test_admin_browser import _log_in

    make_key(ADMIN, role="admin")
    capped = make_key(MEMBER)
    spend(app, MEMBER, 40, capped)
    _log_in(page, live_server, ADMIN)

    page.goto(f"{live_server}/admin/users/{user_id(app, MEMBER)}")
    page.get_by_label("Monthly token budget").fill("5000")
    page.get_by_role("button", name="Save budget").click()
    expect(page.get_by_role("status")).to_contain_text("monthly budget of 5,000 tokens")
    screenshot("admin-user-budget")
    page.get_by_role("link", name=capped.split("-")[0] + "-" + capped.split("-")[1]).click()
    page.get_by_label("Monthly token budget").fill("100")
    page.get_by_role("button", name="Save budget").click()
    expect(page.get_by_role("status")).to_contain_text("may spend 100 tokens a month")
    expect(page.locator("#key-budget")).to_contain_text("40 used through this key")
    screenshot("admin-key-budget")

    page.get_by_role("button", name="Log out").click()
    _log_in(page, live_server, MEMBER)
    page.goto(f"{live_server}/settings/")
    expect(page.locator("#budget-remaining")).to_contain_text("4,960 of 5,000 tokens left")
    expect(page.locator("#budget-source")).to_contain_text("An administrator set this budget")
    expect(page.locator("td.key-budget")).to_have_text("40 of 100")
    screenshot("settings-budgets")
