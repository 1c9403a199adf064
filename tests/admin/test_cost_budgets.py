"""Admins set monthly dollar budgets on a user's, a key's and a role's screen (audited; a bad
amount refused inline)."""

from __future__ import annotations

from decimal import Decimal

from app.repositories import accounts as accounts_repo
from tests.admin.conftest import post_form
from tests.budgets import MEMBER, key_id, user_id


def test_admin_sets_a_users_and_a_keys_dollar_budget_on_their_pages(app, admin_client,
                                                                     make_key):
    secret = make_key(MEMBER)
    member, key = user_id(app, MEMBER), key_id(app, secret)
    user_page, key_page = f"/admin/users/{member}", f"/admin/keys/{key}"

    post_form(admin_client, user_page, f"{user_page}/budget",
              {"monthly_token_budget": "", "monthly_cost_budget": "12.50"},
              follow_redirects=True)
    post_form(admin_client, key_page, f"{key_page}/budget",
              {"monthly_token_budget": "", "monthly_cost_budget": "3"}, follow_redirects=True)

    with app.app_context():
        assert accounts_repo.user_by_id(member).monthly_cost_budget == Decimal("12.5")
        assert accounts_repo.key_by_id(key).monthly_cost_budget == Decimal(3)
    assert 'value="12.5' in admin_client.get(user_page).get_data(as_text=True)


def test_a_negative_dollar_budget_is_refused_inline(app, admin_client, make_key):
    make_key(MEMBER)
    page = f"/admin/users/{user_id(app, MEMBER)}"

    refused = post_form(admin_client, page, f"{page}/budget",
                        {"monthly_token_budget": "", "monthly_cost_budget": "-5"})

    assert refused.status_code == 400
    assert "Enter 0 to 99,999,999 US dollars." in refused.get_data(as_text=True)
    with app.app_context():
        assert accounts_repo.user_by_email(MEMBER).monthly_cost_budget is None


def test_role_form_sets_the_roles_dollar_budget(app, admin_client):
    with app.app_context():
        role_id = accounts_repo.role_by_name("member").id
    page = f"/admin/roles/{role_id}"
    post_form(admin_client, page, page,
              {"name": "member", "description": "", "permissions": ["chat", "api"],
               "rate_limit": "", "monthly_token_budget": "", "monthly_cost_budget": "40"},
              follow_redirects=True)

    with app.app_context():
        assert accounts_repo.role_by_name("member").monthly_cost_budget == Decimal(40)
