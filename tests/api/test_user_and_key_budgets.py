"""Monthly token budgets per user (overriding the role's) and per API key (a cap on what is
spent through that key, on top of the owner's), enforced on /v1 before the vendor call; and
the budget check's cost: no query without a budget, the key read once until access changes."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.extensions import db
from app.repositories import accounts as accounts_repo
from app.services import budgets
from tests.budgets import (
    ANTHROPIC_CHAT,
    CHAT,
    MEMBER,
    assert_insufficient_quota,
    key_id,
    set_budgets,
    spend,
)
from tests.conftest import bearer

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
