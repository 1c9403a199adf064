"""Queries over vendor credentials and model routes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

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


def delete(obj) -> None:
    db.session.delete(obj)


def all_credentials() -> list[VendorCredential]:
    return list(db.session.scalars(select(VendorCredential).order_by(VendorCredential.name)))


def credential_by_id(credential_id: int) -> VendorCredential | None:
    return db.session.get(VendorCredential, credential_id)


def credentials_with_secret() -> list[VendorCredential]:
    return list(db.session.scalars(
        select(VendorCredential).where(VendorCredential.encrypted_secret.is_not(None))))


def all_routes() -> list[ModelRoute]:
    return list(
        db.session.scalars(
            select(ModelRoute)
            .options(selectinload(ModelRoute.roles), joinedload(ModelRoute.credential))
            .order_by(ModelRoute.public_name, ModelRoute.priority, ModelRoute.id)
        )
    )


def route_by_id(route_id: int) -> ModelRoute | None:
    return db.session.get(ModelRoute, route_id)


def route_names_of(credential_id: int) -> set[str]:
    return set(db.session.scalars(
        select(ModelRoute.upstream_model).where(ModelRoute.credential_id == credential_id)))
