"""Queries over users, roles and API keys."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiKey, Role, User


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


def key_by_prefix(prefix: str) -> ApiKey | None:
    return db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


def keys_of_user(user_id: int) -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
        )
    )
