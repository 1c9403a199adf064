"""A team's models and rate limit on /v1, on top of each member's role: a model outside the
team's list is a 404 in the caller's shape before any vendor call, and the team's rate limit
is shared by all its members and service keys."""

from __future__ import annotations

import anthropic
import openai
import pytest

from app.extensions import db
from app.repositories import teams as teams_repo
from tests.budgets import MEMBER, make_team

MESSAGES = [{"role": "user", "content": "hello there"}]
OTHER = "other@example.com"


def set_team(app, team_id: int, **fields) -> None:
    with app.app_context():
        team = teams_repo.by_id(team_id)
        for name, value in fields.items():
            setattr(team, name, value)
        db.session.commit()


def test_a_model_outside_the_teams_list_is_not_found_in_both_shapes(app, live_server,
                                                                     make_key, fake_vendor):
    secret = make_key(MEMBER)
    team = make_team(app, "platform", (MEMBER,))
    set_team(app, team, allowed_models=["anthropic/*"])

    with openai.OpenAI(base_url=live_server + "/v1", api_key=secret, max_retries=0) as client:
        with pytest.raises(openai.NotFoundError, match="openai/fake-chat"):
            client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
    with anthropic.Anthropic(base_url=live_server, api_key=secret, max_retries=0) as client:
        assert client.messages.create(model="anthropic/fake-chat", max_tokens=20,
                                      messages=MESSAGES)
    assert [r.path for r in fake_vendor.requests] == ["/v1/messages"]


def test_the_teams_rate_limit_is_shared_by_its_members(app, live_server, make_key):
    first, second, outsider = make_key(MEMBER), make_key(OTHER), make_key("x@example.com")
    team = make_team(app, "platform", (MEMBER, OTHER))
    set_team(app, team, rate_limit="2/minute")

    def call(secret):
        with openai.OpenAI(base_url=live_server + "/v1", api_key=secret,
                           max_retries=0) as client:
            return client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)

    call(first)
    call(second)
    with pytest.raises(openai.RateLimitError):
        call(first)
    assert call(outsider)  # not in the team


def test_the_model_list_shows_only_what_the_team_allows(app, live_server, make_key):
    secret = make_key(MEMBER)
    team = make_team(app, "platform", (MEMBER,))
    with openai.OpenAI(base_url=live_server + "/v1", api_key=secret, max_retries=0) as client:
        everything = {m.id for m in client.models.list()}
        set_team(app, team, allowed_models=["anthropic/*"])
        listed = {m.id for m in client.models.list()}
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("openai/fake-chat")

    assert any(m.startswith("openai/") for m in everything)
    assert listed == {m for m in everything if m.startswith("anthropic/")} and listed
