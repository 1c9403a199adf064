"""Teams through the admin REST API: create, change, members (one team a user), service keys,
delete (members and keys stay, teamless); validated and audited."""

from __future__ import annotations

import pytest

from tests.api_admin.conftest import API, audit_trail, user_id


@pytest.fixture
def rest(app, admin):
    client = app.test_client()

    def call(method: str, path: str, json=None):
        return getattr(client, method)(API + path, json=json, headers=admin)

    return call


def test_admin_creates_a_team_adds_members_and_a_service_key_then_deletes_it(app, rest,
                                                                            make_key):
    make_key("gus@example.com")
    gus = user_id(app, "gus@example.com")
    key_id = rest("get", "/keys?owner=gus").get_json()["data"][0]["id"]

    created = rest("post", "/teams", {"name": "Platform", "monthly_cost_budget": "250",
                                      "monthly_token_budget": 1_000_000,
                                      "allowed_models": ["openai/*"]})
    assert created.status_code == 201, created.get_json()
    team = created.get_json()["data"]
    assert (team["name"], team["monthly_cost_budget"], team["members"]) == ("platform", 250.0, 0)

    member = rest("post", f"/teams/{team['id']}/members", {"user_id": gus}).get_json()["data"]
    assert member["team_id"] == team["id"]
    key = rest("patch", f"/keys/{key_id}", {"team_id": team["id"]}).get_json()["data"]
    assert key["team_id"] == team["id"]
    assert [u["email"] for u in rest("get", f"/teams/{team['id']}/members")
            .get_json()["data"]] == ["gus@example.com"]
    changed = rest("patch", f"/teams/{team['id']}", {"monthly_cost_budget": None})
    assert changed.get_json()["data"]["monthly_cost_budget"] is None

    assert rest("delete", f"/teams/{team['id']}").status_code == 204
    assert rest("get", f"/users/{gus}").get_json()["data"]["team_id"] is None
    assert rest("get", f"/teams/{team['id']}").status_code == 404
    actions = [event["action"] for event in audit_trail(app)]
    for action in ("team.created", "user.team_changed", "key.team_changed", "team.updated",
                   "team.deleted"):
        assert action in actions


def test_removing_a_member_and_unknown_ids(app, rest, make_key):
    make_key("gus@example.com")
    gus = user_id(app, "gus@example.com")
    team = rest("post", "/teams", {"name": "ops"}).get_json()["data"]
    rest("post", f"/teams/{team['id']}/members", {"user_id": gus})

    assert rest("delete", f"/teams/{team['id']}/members/{gus}").status_code == 204
    assert rest("delete", f"/teams/{team['id']}/members/{gus}").status_code == 404
    assert rest("post", f"/teams/{team['id']}/members", {"user_id": 999}).status_code == 404
    assert rest("post", "/teams/999/members", {"user_id": gus}).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "no spaces please"}, "name"),
    ({"name": "ok", "rate_limit": "lots"}, "rate_limit"),
    ({"name": "ok", "monthly_cost_budget": -1}, "monthly_cost_budget"),
    ({"name": "ok", "allowed_models": ["bad model"]}, "allowed_models"),
])
def test_bad_team_fields_are_400s_naming_the_field(rest, body, field):
    response = rest("post", "/teams", body)
    assert response.status_code == 400
    assert field in response.get_data(as_text=True)


def test_duplicate_team_name_is_refused(rest):
    rest("post", "/teams", {"name": "ops"})
    response = rest("post", "/teams", {"name": "OPS"})
    assert response.status_code == 400 and "already exists" in response.get_json()[
        "error"]["message"]


def test_usage_groups_by_team_in_the_api_and_the_csv(app, rest, make_key):
    from decimal import Decimal

    from app.extensions import db
    from app.models import UsageRecord
    from tests.conftest import PASSWORD, log_in

    make_key("gus@example.com")
    gus = user_id(app, "gus@example.com")
    team = rest("post", "/teams", {"name": "platform"}).get_json()["data"]
    with app.app_context():
        for team_id, tokens, tags in ((team["id"], 100, "a"), (team["id"], 50, ""),
                                      (None, 7, "a")):
            db.session.add(UsageRecord(user_id=gus, model="openai/x", route="",
                                       input_tokens=tokens, output_tokens=0,
                                       cost=Decimal("0.5"), latency_ms=10, status="complete",
                                       source="api", team_id=team_id, tags=tags))
        db.session.commit()

    lines = rest("get", "/usage?group=team").get_json()["data"]["lines"]
    assert [(line["label"], line["requests"], line["tokens"], line["cost"]) for line in lines] \
        == [("platform", 2, 150, 1.0), ("(no team)", 1, 7, 0.5)]
    tagged = rest("get", "/usage?group=team&tag=a").get_json()["data"]["lines"]
    assert [(line["label"], line["tokens"]) for line in tagged] == [
        ("platform", 100), ("(no team)", 7)]

    client = app.test_client()
    log_in(client, "root@example.com", PASSWORD)
    csv = client.get("/admin/usage/usage.csv?group=team").get_data(as_text=True).splitlines()
    assert csv[0].startswith("team,requests,") and csv[1].startswith("platform,2,150,")
    assert "Top teams" in client.get("/admin/usage/").get_data(as_text=True)
