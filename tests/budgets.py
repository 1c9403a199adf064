"""Budget helpers shared by each audience's budget tests: set budgets, write spending, check a
refusal (role, user and key budgets; the tests live beside their audience)."""

from __future__ import annotations

from app.extensions import db
from app.repositories import accounts as accounts_repo
from app.services import usage
from app.vendors import Usage
from tests.conftest import bearer

CHAT = {"model": "openai/fake-chat", "messages": [{"role": "user", "content": "hello there"}]}
ANTHROPIC_CHAT = {"model": "anthropic/fake-chat", "max_tokens": 20,
                  "messages": [{"role": "user", "content": "hi"}]}
MEMBER = "member@example.com"
ADMIN = "admin@example.com"


def key_id(app, secret: str) -> int:
    """The id of the API key ``secret``."""
    with app.app_context():
        return accounts_repo.key_by_prefix("-".join(secret.split("-")[:2])).id


def user_id(app, email: str) -> int:
    """The id of the user ``email``."""
    with app.app_context():
        return accounts_repo.user_by_email(email).id


def set_role_budget(app, tokens: int | None, role: str = "member") -> None:
    """Set ``role``'s monthly token budget (``None``: unlimited)."""
    with app.app_context():
        accounts_repo.role_by_name(role).monthly_token_budget = tokens
        db.session.commit()


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


def spent_member_key(app, make_key) -> str:
    """A member key whose one call used the whole 5-token monthly budget of the role."""
    set_role_budget(app, 5)
    key = make_key()
    first = app.test_client().post("/v1/chat/completions", json=CHAT, headers=bearer(key))
    assert first.status_code == 200  # the call that crosses the line still finishes
    return key


def assert_insufficient_quota(response, words: str) -> dict:
    """Check an OpenAI-shaped budget refusal whose message holds ``words``; returns its error."""
    assert response.status_code == 429, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert words in error["message"]
    assert int(response.headers["Retry-After"]) > 0
    return error


def set_cost_budgets(app, *, role=None, email: str = MEMBER, user=None,
                     key: str | None = None, key_budget=None) -> None:
    """The member role's, the user's and (with ``key``) a key's monthly dollar budgets
    (``None``: no dollar limit of its own)."""
    from decimal import Decimal

    def usd(value):
        return None if value is None else Decimal(str(value))

    with app.app_context():
        accounts_repo.role_by_name("member").monthly_cost_budget = usd(role)
        accounts_repo.user_by_email(email).monthly_cost_budget = usd(user)
        if key is not None:
            accounts_repo.key_by_id(key_id(app, key)).monthly_cost_budget = usd(key_budget)
        db.session.commit()


def spend_dollars(app, email: str, usd: str, secret: str | None = None) -> None:
    """Write a call that cost ``usd`` dollars this month to the ledger (through ``secret``)."""
    from decimal import Decimal

    from app.models import UsageRecord

    with app.app_context():
        db.session.add(UsageRecord(
            user_id=user_id(app, email), api_key_id=key_id(app, secret) if secret else None,
            model="openai/fake-chat", route="", input_tokens=1, output_tokens=1,
            cost=Decimal(usd), latency_ms=1, status="complete", source="api"))
        db.session.commit()


def make_team(app, name: str, members: tuple[str, ...] = (), *, tokens: int | None = None,
              usd: str | None = None, keys: tuple[str, ...] = ()) -> int:
    """A team with these members (e-mails), service keys (secrets) and monthly budgets."""
    from decimal import Decimal

    from app.models import Team

    with app.app_context():
        team = Team(name=name, monthly_token_budget=tokens,
                    monthly_cost_budget=None if usd is None else Decimal(usd))
        db.session.add(team)
        db.session.flush()
        for email in members:
            accounts_repo.user_by_email(email).team_id = team.id
        for secret in keys:
            accounts_repo.key_by_id(key_id(app, secret)).team_id = team.id
        db.session.commit()
        return team.id
