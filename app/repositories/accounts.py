"""Queries over users, roles and API keys."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import Row, bindparam, func, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import ApiKey, Role, User
from app.repositories.pages import Page, paginate


def add(obj) -> None:
    db.session.add(obj)


def role_by_name(name: str) -> Role | None:
    return db.session.scalar(select(Role).where(Role.name == name))


def all_roles() -> list[Role]:
    return list(db.session.scalars(select(Role).order_by(Role.id)))


def user_by_id(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


@lru_cache(maxsize=1)
def _key_with_owner():
    """Built once: making the statement cost more than running it (~140 µs a call)."""
    return (select(ApiKey).join(ApiKey.user).join(User.role)
            .options(contains_eager(ApiKey.user).contains_eager(User.role))
            .where(ApiKey.prefix == bindparam("prefix")))


def key_by_prefix(prefix: str) -> ApiKey | None:
    """The key with its owner and role, in one query, as ORM objects."""
    return db.session.scalar(_key_with_owner(), {"prefix": prefix})


@lru_cache(maxsize=1)
def _key_row():
    keys, users, roles = ApiKey.__table__, User.__table__, Role.__table__
    return (select(keys.c.id, keys.c.user_id, keys.c.prefix, keys.c.key_hash, keys.c.scopes,
                   keys.c.rate_limit, keys.c.monthly_token_budget, keys.c.expires_at,
                   keys.c.revoked_at, keys.c.last_used_at,
                   users.c.is_enabled.label("user_enabled"),
                   users.c.monthly_token_budget.label("user_budget"),
                   roles.c.id.label("role_id"), roles.c.name.label("role_name"),
                   roles.c.permissions.label("role_permissions"),
                   roles.c.rate_limit.label("role_rate_limit"),
                   roles.c.monthly_token_budget.label("role_budget"),
                   keys.c.monthly_cost_budget, keys.c.team_id, keys.c.response_cache_ttl,
                   users.c.team_id.label("user_team_id"),
                   users.c.monthly_cost_budget.label("user_cost_budget"),
                   roles.c.monthly_cost_budget.label("role_cost_budget"))
            .join_from(keys, users, users.c.id == keys.c.user_id)
            .join(roles, roles.c.id == users.c.role_id)
            .where(keys.c.prefix == bindparam("prefix")))


def key_row_by_prefix(prefix: str) -> Row | None:
    """The key with what the API needs of its owner and role, as one plain row (the API's hot
    path: reading columns costs a fifth of loading the three ORM objects). Read on a pooled
    connection of its own, so an API call that needs nothing else never opens a session."""
    with db.engine.connect() as connection:
        return connection.execute(_key_row(), {"prefix": prefix}).first()


def touch_key(key_id: int, when: datetime) -> None:
    """Note a key's last use with a Core UPDATE the ORM never sees: the API-key cache relies on
    it (a use is no access change, so it must not move the access generation; see
    ``services/access_cache.py`` and ``tests/test_touch_key_contract.py``)."""
    db.session.execute(update(ApiKey.__table__).where(ApiKey.__table__.c.id == key_id)
                       .values(last_used_at=when))


def keys_of_user(user_id: int) -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
        )
    )


def delete(obj) -> None:
    db.session.delete(obj)


def role_by_id(role_id: int) -> Role | None:
    return db.session.get(Role, role_id)


def users_per_role() -> dict[int, int]:
    rows = db.session.execute(select(User.role_id, func.count()).group_by(User.role_id))
    return {role_id: count for role_id, count in rows}


def search_users(query: str = "", *, page: int = 1, per_page: int = 25) -> Page[User]:
    """Users whose e-mail or display name contains ``query``, by e-mail."""
    statement = select(User).order_by(User.email)
    if query:
        needle = query.strip().lower()
        statement = statement.where(or_(
            func.lower(User.email).contains(needle, autoescape=True),
            func.lower(User.display_name).contains(needle, autoescape=True)))
    return paginate(statement, page, per_page)


def count_enabled_admins() -> int:
    """Enabled users whose role holds the ``admin`` permission."""
    admin_roles = [role.id for role in all_roles() if role.can("admin")]
    return db.session.scalar(
        select(func.count()).select_from(User).where(
            User.role_id.in_(admin_roles), User.is_enabled.is_(True))) or 0


def key_by_id(key_id: int) -> ApiKey | None:
    return db.session.get(ApiKey, key_id)


def all_keys(owner: str = "", *, page: int = 1, per_page: int = 25) -> Page[ApiKey]:
    """Every API key with its owner, newest first; ``owner`` filters by e-mail."""
    statement = (select(ApiKey).join(ApiKey.user).options(joinedload(ApiKey.user))
                 .order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
    if owner:
        statement = statement.where(
            func.lower(User.email).contains(owner.strip().lower(), autoescape=True))
    return paginate(statement, page, per_page)


def count_live_keys(now: datetime) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ApiKey).where(
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now))) or 0


def emails_by_id(user_ids) -> dict[int, str]:
    ids = [i for i in set(user_ids) if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def key_labels_by_id(key_ids) -> dict[int, str]:
    """``prefix (name)`` of each key id."""
    ids = [i for i in set(key_ids) if i is not None]
    if not ids:
        return {}
    rows = db.session.execute(select(ApiKey.id, ApiKey.prefix, ApiKey.name)
                              .where(ApiKey.id.in_(ids)))
    return {key_id: f"{prefix} ({name})" if name else prefix for key_id, prefix, name in rows}
