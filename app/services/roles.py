"""Roles: built-in admin and member plus custom ones, their permissions, models and limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from app.extensions import db
from app.models import Role
from app.models.accounts import PERMISSIONS
from app.repositories import accounts as repo
from app.services import audit
from app.services.actor import Actor
from app.services.vendors import invalidate_catalog

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# The limits library's notation: "60/minute", "1000 per day", several joined by ";".
RATE_LIMIT = re.compile(
    r"^\s*\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day|month|year)s?\s*"
    r"(;\s*\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day|month|year)s?\s*)*$"
)
MODEL_NAME = re.compile(r"^[A-Za-z0-9][\w.:@+-]*(/([\w.:@+-]+(/[\w.:@+-]+)*|\*))?$")
MAX_BUDGET = 2**31 - 1
MAX_COST_BUDGET = 10**8  # US dollars: what Numeric(12, 4) holds


class RoleError(ValueError):
    """A role change that breaks a rule; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class RoleSpec:
    name: str
    description: str = ""
    permissions: list[str] = field(default_factory=list)
    allowed_models: list[str] | None = None  # None: every model
    rate_limit: str | None = None
    monthly_token_budget: int | None = None
    monthly_cost_budget: Decimal | None = None  # US dollars a month; None: no dollar limit


def all_roles() -> list[Role]:
    return repo.all_roles()


def find(role_id: int) -> Role | None:
    """The role with this id, or None."""
    return repo.role_by_id(role_id)


def user_counts() -> dict[int, int]:
    return repo.users_per_role()


def parse_models(text: str) -> list[str]:
    """Model names from text separated by commas, spaces or new lines."""
    return [name for name in re.split(r"[\s,]+", text or "") if name]


def create(actor: Actor, spec: RoleSpec) -> Role:
    _check(spec)
    if repo.role_by_name(spec.name):
        raise RoleError(f"A role named {spec.name!r} already exists.", "name")
    role = Role(name=spec.name, builtin=False)
    _apply(role, spec)
    repo.add(role)
    _record(actor, "role.created", role, **_summary(role))
    db.session.commit()
    invalidate_catalog()
    return role


def update(actor: Actor, role: Role, spec: RoleSpec) -> Role:
    if role.builtin and spec.name != role.name:
        raise RoleError("Built-in roles keep their name.", "name")
    if role.name == "admin" and "admin" not in spec.permissions:
        raise RoleError("The admin role keeps the admin permission.", "permissions")
    _check(spec)
    other = repo.role_by_name(spec.name)
    if other is not None and other.id != role.id:
        raise RoleError(f"A role named {spec.name!r} already exists.", "name")
    before = _summary(role)
    role.name = spec.name
    _apply(role, spec)
    after = _summary(role)
    changed = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
    _record(actor, "role.updated", role, changes=changed)
    db.session.commit()
    invalidate_catalog()
    return role


def delete(actor: Actor, role: Role) -> None:
    if role.builtin:
        raise RoleError("Built-in roles cannot be deleted.")
    users = repo.users_per_role().get(role.id, 0)
    if users:
        raise RoleError(f"{users} user(s) still have the role {role.name}; give them another "
                        "role first.")
    _record(actor, "role.deleted", role)
    repo.delete(role)
    db.session.commit()
    invalidate_catalog()


def _check(spec: RoleSpec) -> None:
    spec.name = (spec.name or "").strip().lower()
    if not NAME.match(spec.name):
        raise RoleError("Use 1-64 lower-case letters, digits, '-' or '_' (starting with a "
                        "letter or digit).", "name")
    unknown = sorted(set(spec.permissions) - set(PERMISSIONS))
    if unknown:
        raise RoleError(f"Unknown permission: {', '.join(unknown)}.", "permissions")
    spec.rate_limit = (spec.rate_limit or "").strip() or None
    if spec.rate_limit and (len(spec.rate_limit) > 64 or not RATE_LIMIT.match(spec.rate_limit)):
        raise RoleError("Write a rate limit like 60/minute or 1000 per day.", "rate_limit")
    budget = spec.monthly_token_budget
    if budget is not None and not 0 <= budget <= MAX_BUDGET:
        raise RoleError("The monthly budget is a number of tokens, 0 or more.",
                        "monthly_token_budget")
    cost = spec.monthly_cost_budget
    if cost is not None and not 0 <= cost < MAX_COST_BUDGET:
        raise RoleError("The monthly dollar budget is an amount of US dollars, 0 or more.",
                        "monthly_cost_budget")
    if spec.allowed_models is not None:
        bad = [n for n in spec.allowed_models if len(n) > 200 or not MODEL_NAME.match(n)]
        if bad:
            raise RoleError(f"Not a model name: {bad[0]}. Use names like mock/echo, an alias, "
                            "or vendor/* for all of a vendor's models.", "allowed_models")
        spec.allowed_models = sorted(set(spec.allowed_models))


def _apply(role: Role, spec: RoleSpec) -> None:
    role.description = (spec.description or "").strip()[:255]
    role.permissions = [p for p in PERMISSIONS if p in spec.permissions]
    role.allowed_models = spec.allowed_models
    role.rate_limit = spec.rate_limit
    role.monthly_token_budget = spec.monthly_token_budget
    role.monthly_cost_budget = spec.monthly_cost_budget


def _summary(role: Role) -> dict:
    return {"permissions": list(role.permissions or []), "allowed_models": role.allowed_models,
            "rate_limit": role.rate_limit, "monthly_token_budget": role.monthly_token_budget,
            "monthly_cost_budget": None if role.monthly_cost_budget is None
            else str(role.monthly_cost_budget)}


def _record(actor: Actor, action: str, role: Role, **detail) -> None:
    audit.record(action, actor_id=actor.user_id, ip=actor.ip, target=f"role:{role.name}",
                 **detail)
