"""Admins set monthly dollar budgets on users, roles and keys through the REST API (audited,
validated, null clears)."""

from __future__ import annotations

import pytest

from tests.api_admin.conftest import API, audit_trail, user_id


@pytest.fixture
def rest(app, admin):
    client = app.test_client()

    def call(method: str, path: str, json=None):
        return getattr(client, method)(API + path, json=json, headers=admin)

    return call


def test_admin_sets_and_clears_dollar_budgets_on_users_roles_and_keys(app, rest, make_key):
    make_key("gus@example.com")
    gus = user_id(app, "gus@example.com")
    key_id = rest("get", "/keys?owner=gus").get_json()["data"][0]["id"]
    member_role = next(r for r in rest("get", "/roles").get_json()["data"]
                       if r["name"] == "member")

    user = rest("patch", f"/users/{gus}", {"monthly_cost_budget": "12.5"}).get_json()["data"]
    role = rest("patch", f"/roles/{member_role['id']}",
                {"monthly_cost_budget": 40}).get_json()["data"]
    key = rest("patch", f"/keys/{key_id}", {"monthly_cost_budget": 2.25}).get_json()["data"]

    assert (user["monthly_cost_budget"], role["monthly_cost_budget"],
            key["monthly_cost_budget"]) == (12.5, 40.0, 2.25)
    assert {"user.cost_budget_changed", "key.cost_budget_changed", "role.updated"} <= {
        event["action"] for event in audit_trail(app)}

    cleared = rest("patch", f"/users/{gus}", {"monthly_cost_budget": None}).get_json()["data"]
    assert cleared["monthly_cost_budget"] is None


@pytest.mark.parametrize("amount", [-1, "abc", 10**9, "0.00001"])
def test_a_bad_dollar_budget_is_a_400(app, rest, make_key, amount):
    make_key("gus@example.com")
    response = rest("patch", f"/users/{user_id(app, 'gus@example.com')}",
                    {"monthly_cost_budget": amount})
    assert response.status_code == 400
    assert "monthly_cost_budget" in response.get_data(as_text=True)
