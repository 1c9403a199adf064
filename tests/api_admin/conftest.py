"""The admin REST API's tests: an admin's and a member's API key, the fake vendor as both the
environment's ``openai`` vendor and a stored one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.repositories import accounts as accounts_repo
from tests.conftest import bearer, fake_vendor_env

ADMIN_EMAIL = "root@example.com"
API = "/api/v1/admin"


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(**fake_vendor_env(fake_vendor, "openai"))


@pytest.fixture
def make_key(make_key):
    """tests/conftest.py's key factory, answering the key's headers."""

    def factory(email: str, role: str = "member", **key_fields) -> dict:
        return bearer(make_key(email, role, **key_fields))

    return factory


@pytest.fixture
def admin(make_key) -> dict:
    """Headers of an admin's API key."""
    return make_key(ADMIN_EMAIL, role="admin")


@pytest.fixture
def member(make_key) -> dict:
    return make_key("member@example.com")


@pytest.fixture
def api(client, admin):
    """Call /api/v1/admin<path> as the admin: ``api("post", "/users", json={...})``."""

    def call(method: str, path: str, **kwargs):
        return client.open(API + path, method=method.upper(), headers=admin, **kwargs)

    return call


def user_id(app, email: str) -> int:
    with app.app_context():
        return accounts_repo.user_by_email(email).id


def audit_trail(app) -> list[dict]:
    """Every audit event, oldest first, as plain dicts (details included)."""
    with app.app_context():
        return [{"action": e.action, "target": e.target, "actor_id": e.actor_id, "ip": e.ip,
                 "detail": e.detail}
                for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
