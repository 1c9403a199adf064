"""Team budgets on /v1: a team's monthly token and dollar budgets cover every member's calls
and its service keys' (a service key counts towards its team, not its owner's), checked
before the vendor call and refused in each wire shape; each usage row names its team."""

from __future__ import annotations

import anthropic
import openai
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import UsageRecord
from tests.budgets import MEMBER, make_team, spend_dollars

MESSAGES = [{"role": "user", "content": "hello there"}]
OTHER = "other@example.com"


def ledger_teams(app) -> list[int | None]:
    with app.app_context():
        return list(db.session.scalars(select(UsageRecord.team_id).order_by(UsageRecord.id)))


def test_usage_rows_count_towards_the_members_team_or_the_service_keys(app, live_server,
                                                                       make_key):
    member_key = make_key(MEMBER)
    service_key = make_key(OTHER)
    team = make_team(app, "platform", (MEMBER,))
    service = make_team(app, "ci-bots", keys=(service_key,))
    for secret in (member_key, service_key):
        with openai.OpenAI(base_url=live_server + "/v1", api_key=secret,
                           max_retries=0) as client:
            client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)

    assert ledger_teams(app) == [team, service]


def test_a_spent_team_dollar_budget_refuses_every_member_in_both_wire_shapes(
        app, live_server, make_key, fake_vendor):
    first, second = make_key(MEMBER), make_key(OTHER)
    make_team(app, "platform", (MEMBER, OTHER), usd="5")
    with app.app_context():  # MEMBER's team spent it all
        from app.repositories import accounts as accounts_repo

        team_id = accounts_repo.user_by_email(MEMBER).team_id
    spend_dollars(app, MEMBER, "5")
    with app.app_context():
        record = db.session.scalar(select(UsageRecord))
        record.team_id = team_id
        db.session.commit()

    with openai.OpenAI(base_url=live_server + "/v1", api_key=first, max_retries=0) as client:
        with pytest.raises(openai.RateLimitError,
                           match=r"Your team has used its monthly budget of \$5\.00"):
            client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
    with anthropic.Anthropic(base_url=live_server, api_key=second, max_retries=0) as client:
        with pytest.raises(anthropic.RateLimitError, match="Your team has used"):
            client.messages.create(model="anthropic/fake-chat", max_tokens=20,
                                   messages=MESSAGES)
    assert fake_vendor.requests == []


def test_team_token_budget_lets_the_crossing_call_finish_then_refuses(app, live_server,
                                                                      make_key):
    secret = make_key(MEMBER)
    make_team(app, "platform", (MEMBER,), tokens=1)
    with openai.OpenAI(base_url=live_server + "/v1", api_key=secret, max_retries=0) as client:
        assert client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
        with pytest.raises(openai.RateLimitError, match="monthly budget of 1 tokens"):
            client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)


def test_a_service_key_is_held_to_its_teams_budget_not_its_owners(app, live_server, make_key):
    service_key, own_key = make_key(MEMBER), make_key(MEMBER)
    make_team(app, "ci-bots", keys=(service_key,), tokens=0)

    with openai.OpenAI(base_url=live_server + "/v1", api_key=service_key,
                       max_retries=0) as client:
        with pytest.raises(openai.RateLimitError, match="Your team"):
            client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
    with openai.OpenAI(base_url=live_server + "/v1", api_key=own_key, max_retries=0) as client:
        assert client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
