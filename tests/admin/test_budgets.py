"""Admins set a user's and a key's monthly token budget on their pages (audited, bad values
refused inline)."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.repositories import accounts as accounts_repo
from tests.admin.conftest import post_form
from tests.budgets import MEMBER, key_id, user_id


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
