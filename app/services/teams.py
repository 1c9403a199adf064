"""Teams: an admin creates them, puts users in them (one team a user) and gives API keys to
them (service keys). A team's monthly token and dollar budgets are enforced by
services/budgets.py on every call of its members and keys; its usage is in the reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.extensions import db
from app.models import ApiKey, Team, User
from app.repositories import accounts as accounts_repo
from app.repositories import teams as repo
from app.services import audit
from app.services.actor import Actor
from app.services.cost_budgets import CostBudgetError, parse_usd
from app.services.roles import MAX_BUDGET, MODEL_NAME, NAME, RATE_LIMIT
from app.vendors import UnknownModelError


class TeamError(ValueError):
    """A team change that breaks a rule; ``field`` names the field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class TeamSpec:
    name: str
    description: str = ""
    allowed_models: list[str] | None = None  # on top of each member's role; None: any
    rate_limit: str | None = None
    monthly_token_budget: int | None = None
    monthly_cost_budget: Decimal | None = None


FIELDS = ("name", "description", "allowed_models", "rate_limit", "monthly_token_budget",
          "monthly_cost_budget")


def all_teams() -> list[Team]:
    return repo.all_teams()


def find(team_id: int) -> Team | None:
    return repo.by_id(team_id)


def member_counts() -> dict[int, int]:
    return repo.member_counts()


def members(team: Team) -> list[User]:
    return repo.members(team.id)


def service_keys(team: Team) -> list[ApiKey]:
    return repo.service_keys(team.id)


def spec_of(team: Team) -> TeamSpec:
    return TeamSpec(**{name: getattr(team, name) for name in FIELDS})


def create(actor: Actor, spec: TeamSpec) -> Team:
    _check(spec)
    if repo.by_name(spec.name):
        raise TeamError(f"A team named {spec.name!r} already exists.", "name")
    team = Team(name=spec.name)
    _apply(team, spec)
    repo.add(team)
    db.session.flush()
    _record(actor, "team.created", team, **_summary(team))
    db.session.commit()
    return team


def update(actor: Actor, team: Team, spec: TeamSpec) -> Team:
    _check(spec)
    other = repo.by_name(spec.name)
    if other is not None and other.id != team.id:
        raise TeamError(f"A team named {spec.name!r} already exists.", "name")
    before = _summary(team)
    team.name = spec.name
    _apply(team, spec)
    after = _summary(team)
    changed = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
    if changed:
        _record(actor, "team.updated", team, changes=changed)
    db.session.commit()
    return team


def delete(actor: Actor, team: Team) -> None:
    """Delete the team; its members and service keys stay, without a team."""
    repo.detach_all(team.id)
    _record(actor, "team.deleted", team)
    repo.delete(team)
    db.session.commit()


def set_user_team(actor: Actor, user: User, team: Team | None) -> User:
    """Put ``user`` in ``team`` (None: in no team); their calls count towards it from now on."""
    before = user.team.name if user.team_id and user.team else None
    after = team.name if team else None
    if before != after:
        user.team_id = team.id if team else None
        audit.record("user.team_changed", actor_id=actor.user_id, ip=actor.ip,
                     target=f"user:{user.email}", before=before, after=after)
        db.session.commit()
    return user


def add_member_by_email(actor: Actor, team: Team, email: str) -> User:
    """Put the user with this e-mail in ``team``; TeamError when there is none."""
    user = accounts_repo.user_by_email((email or "").strip())
    if user is None:
        raise TeamError(f"There is no user with the e-mail {email.strip()!r}.", "email")
    return set_user_team(actor, user, team)


def remove_member(actor: Actor, team: Team, user_id: int) -> None:
    """Take the user out of ``team`` (nothing when they are not in it)."""
    user = accounts_repo.user_by_id(user_id)
    if user is not None and user.team_id == team.id:
        set_user_team(actor, user, None)


def set_key_team(actor: Actor, key: ApiKey, team: Team | None) -> ApiKey:
    """Make ``key`` a service key of ``team`` (None: its owner's again)."""
    before = key.team.name if key.team_id and key.team else None
    after = team.name if team else None
    if before != after:
        key.team_id = team.id if team else None
        audit.record("key.team_changed", actor_id=actor.user_id, ip=actor.ip,
                     target=f"key:{key.prefix}", before=before, after=after)
        db.session.commit()
    return key


def rate_limit_of(team_id: int) -> str | None:
    """The team's rate limit (such as 600/minute), shared by its members and keys."""
    team = repo.by_id(team_id)
    return team.rate_limit if team is not None else None


def allowed_models(team_id: int | None) -> frozenset[str] | None:
    """The model names the team may use (None: no team, or no list of its own)."""
    team = repo.by_id(team_id) if team_id else None
    if team is None or team.allowed_models is None:
        return None
    return frozenset(team.allowed_models)


def allows(allowed: frozenset[str] | None, model: str) -> bool:
    """Whether a team's list (None: any) names ``model``, itself or as ``vendor/*``."""
    vendor, _, _ = model.partition("/")
    return allowed is None or model in allowed or f"{vendor}/*" in allowed


def check_model(team_id: int | None, model: str) -> None:
    """Raise UnknownModelError when the caller's team restricts its models and ``model`` (as
    the client named it; ``vendor/*`` covers a vendor's) is not among them. On top of the
    role's own list, which the vendor manager applies."""
    if not allows(allowed_models(team_id), model):
        raise UnknownModelError(model)


def _check(spec: TeamSpec) -> None:
    spec.name = (spec.name or "").strip().lower()
    if not NAME.match(spec.name):
        raise TeamError("Use 1-64 lower-case letters, digits, '-' or '_' (starting with a "
                        "letter or digit).", "name")
    spec.description = (spec.description or "").strip()
    if len(spec.description) > 255:
        raise TeamError("The description has at most 255 characters.", "description")
    spec.rate_limit = (spec.rate_limit or "").strip() or None
    if spec.rate_limit and (len(spec.rate_limit) > 64 or not RATE_LIMIT.match(spec.rate_limit)):
        raise TeamError("Write a rate limit like 60/minute or 1000 per day.", "rate_limit")
    tokens = spec.monthly_token_budget
    if tokens is not None and (isinstance(tokens, bool) or not 0 <= tokens <= MAX_BUDGET):
        raise TeamError("The monthly token budget is a number of tokens, 0 or more.",
                        "monthly_token_budget")
    try:
        spec.monthly_cost_budget = parse_usd(spec.monthly_cost_budget)
    except CostBudgetError as exc:
        raise TeamError(str(exc), "monthly_cost_budget") from None
    if spec.allowed_models is not None:
        bad = [n for n in spec.allowed_models if len(n) > 200 or not MODEL_NAME.match(n)]
        if bad:
            raise TeamError(f"Not a model name: {bad[0]}. Use names like mock/echo, an alias, "
                            "or vendor/* for all of a vendor's models.", "allowed_models")
        spec.allowed_models = sorted(set(spec.allowed_models))


def _apply(team: Team, spec: TeamSpec) -> None:
    team.description = spec.description
    team.allowed_models = spec.allowed_models
    team.rate_limit = spec.rate_limit
    team.monthly_token_budget = spec.monthly_token_budget
    team.monthly_cost_budget = spec.monthly_cost_budget


def _summary(team: Team) -> dict:
    return {"name": team.name, "allowed_models": team.allowed_models,
            "rate_limit": team.rate_limit, "monthly_token_budget": team.monthly_token_budget,
            "monthly_cost_budget": None if team.monthly_cost_budget is None
            else str(team.monthly_cost_budget)}


def _record(actor: Actor, action: str, team: Team, **detail) -> None:
    audit.record(action, actor_id=actor.user_id, ip=actor.ip, target=f"team:{team.name}",
                 **detail)
