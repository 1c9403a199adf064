"""Accounts and API keys through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey
from app.services import accounts, keys
from tests.conftest import PASSWORD


@pytest.fixture
def any_app(backend_url, make_app):
    app = make_app(backend_url)
    with app.app_context():
        yield app


def test_password_is_hashed_and_checked(any_app):
    user = accounts.create_user("Member@Example.com ", PASSWORD)
    assert user.email == "member@example.com" and PASSWORD not in user.password_hash
    assert accounts.authenticate("member@example.com", PASSWORD).id == user.id
    assert accounts.authenticate("member@example.com", "wrong password") is None
    assert accounts.authenticate("nobody@example.com", PASSWORD) is None


def test_invalid_email_and_unknown_role_are_refused(any_app):
    with pytest.raises(accounts.AccountError, match="valid e-mail"):
        accounts.create_user("not-an-email", PASSWORD)
    with pytest.raises(accounts.AccountError, match="no role"):
        accounts.create_user("a@example.com", PASSWORD, role="superuser")


def test_key_is_random_and_stored_as_sha256_hash_with_prefix(any_app):
    user = accounts.create_user("member@example.com", PASSWORD)
    key, secret = keys.create_key(user, name="ci")
    other_key, other_secret = keys.create_key(user)
    assert secret != other_secret and len(secret) > 40
    row = db.session.scalars(select(ApiKey).where(ApiKey.id == key.id)).one()
    assert secret.startswith(row.prefix + "-")
    assert len(row.key_hash) == 64 and secret not in row.key_hash
    assert keys.verify_key(secret).id == key.id


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda s: "",
        lambda s: "Bearer ' OR '1'='1",
        lambda s: "pk-" + "x" * 8000,
        lambda s: "pk-ünïcödé-ß",
    ],
    ids=["wrong-secret", "empty", "sql-ish", "huge", "non-ascii"],
)
def test_forged_keys_are_refused(any_app, tamper):
    user = accounts.create_user("member@example.com", PASSWORD)
    _, secret = keys.create_key(user)
    assert keys.verify_key(tamper(secret)) is None


def test_case8_revoked_expired_and_disabled_owner_keys_are_refused(any_app):
    user = accounts.create_user("member@example.com", PASSWORD)
    revoked, revoked_secret = keys.create_key(user)
    keys.revoke_key(revoked.prefix)
    assert keys.verify_key(revoked_secret) is None

    expired, expired_secret = keys.create_key(user, expires_days=1)
    expired.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert keys.verify_key(expired_secret) is None

    _, live_secret = keys.create_key(user)
    user.is_enabled = False
    db.session.commit()
    assert keys.verify_key(live_secret) is None


def test_session_id_carries_a_version_that_logs_out_old_sessions(any_app):
    user = accounts.create_user("member@example.com", PASSWORD)
    session_id = user.get_id()
    assert accounts.load_session_user(session_id).id == user.id
    user.session_version += 1
    db.session.commit()
    assert accounts.load_session_user(session_id) is None
    assert accounts.load_session_user("garbage") is None


def test_first_admin_is_created_only_when_no_user_exists(any_app):
    admin, generated = accounts.ensure_first_admin(None, None)
    assert admin.is_admin and len(generated) >= 16
    assert accounts.ensure_first_admin(None, None) == (None, None)
