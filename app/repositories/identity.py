"""Queries over the OpenID Connect identities of users."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import UserIdentity


def add(identity: UserIdentity) -> None:
    db.session.add(identity)


def by_subject(issuer: str, subject: str) -> UserIdentity | None:
    return db.session.scalar(select(UserIdentity).where(UserIdentity.issuer == issuer,
                                                        UserIdentity.subject == subject))


def of_user(user_id: int) -> list[UserIdentity]:
    return list(db.session.scalars(select(UserIdentity).where(UserIdentity.user_id == user_id)
                                   .order_by(UserIdentity.id)))
