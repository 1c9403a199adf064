"""The Teams admin screen: create a team with its budgets and models, add and remove members
by e-mail, delete it (members stay, teamless)."""

from __future__ import annotations

import html
from decimal import Decimal

from app.repositories import accounts as accounts_repo
from app.services import teams
from tests.admin.conftest import post_form
from tests.budgets import MEMBER


def test_admin_creates_a_team_and_manages_its_members_on_the_screens(app, admin_client,
                                                                      make_user):
    make_user(MEMBER)
    created = post_form(admin_client, "/admin/teams/", "/admin/teams/",
                        {"name": "platform", "description": "Core", "rate_limit": "",
                         "monthly_token_budget": "1000", "monthly_cost_budget": "25.5",
                         "allowed_models": "openai/*\nmock/echo"}, follow_redirects=True)
    page = created.get_data(as_text=True)
    assert "Created the team platform." in page
    with app.app_context():
        team = teams.all_teams()[0]
        assert (team.monthly_cost_budget, team.allowed_models) == (
            Decimal("25.5"), ["mock/echo", "openai/*"])
        team_page = f"/admin/teams/{team.id}"

    added = post_form(admin_client, team_page, f"{team_page}/members", {"email": MEMBER},
                      follow_redirects=True)
    assert f"{MEMBER} is now in the team platform." in added.get_data(as_text=True)
    unknown = post_form(admin_client, team_page, f"{team_page}/members",
                        {"email": "nobody@example.com"})
    assert unknown.status_code == 400
    assert "There is no user with the e-mail" in html.unescape(unknown.get_data(as_text=True))
    assert "Teams" in admin_client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        member = accounts_repo.user_by_email(MEMBER)
        assert member.team_id == team.id
        member_id = member.id

    post_form(admin_client, team_page, f"{team_page}/members/{member_id}/remove")
    with app.app_context():
        assert accounts_repo.user_by_email(MEMBER).team_id is None
    post_form(admin_client, team_page, f"{team_page}/delete")
    with app.app_context():
        assert teams.all_teams() == []


def test_a_bad_team_name_is_refused_inline(admin_client):
    refused = post_form(admin_client, "/admin/teams/", "/admin/teams/",
                        {"name": "Not Valid!", "allowed_models": ""})
    assert refused.status_code == 400
    assert "lower-case letters" in refused.get_data(as_text=True)


def test_a_key_becomes_a_teams_service_key_on_its_page(app, admin_client, make_key):
    from tests.budgets import key_id, make_team

    secret = make_key(MEMBER)
    team_id = make_team(app, "ci-bots")
    page = f"/admin/keys/{key_id(app, secret)}"

    saved = post_form(admin_client, page, f"{page}/team", {"team": str(team_id)},
                      follow_redirects=True)

    assert "now serves the team ci-bots" in saved.get_data(as_text=True)
    with app.app_context():
        assert accounts_repo.key_by_id(key_id(app, secret)).team_id == team_id
    post_form(admin_client, page, f"{page}/team", {"team": ""})
    with app.app_context():
        assert accounts_repo.key_by_id(key_id(app, secret)).team_id is None
