"""Queries over vendor credentials and model routes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import ModelRoute, VendorCredential


def enabled_credentials() -> list[VendorCredential]:
    return list(
        db.session.scalars(
            select(VendorCredential)
            .where(VendorCredential.enabled.is_(True))
            .order_by(VendorCredential.name)
        )
    )


def enabled_routes() -> list[ModelRoute]:
    return list(
        db.session.scalars(
            select(ModelRoute)
            .join(ModelRoute.credential)
            .where(ModelRoute.enabled.is_(True), VendorCredential.enabled.is_(True))
            .options(selectinload(ModelRoute.roles), selectinload(ModelRoute.credential))
            .order_by(ModelRoute.priority, ModelRoute.id)
        )
    )


def credential_by_name(name: str) -> VendorCredential | None:
    return db.session.scalar(select(VendorCredential).where(VendorCredential.name == name))


def add(obj) -> None:
    db.session.add(obj)
