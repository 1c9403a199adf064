"""A key's own rate limit overrides its owner's role limit (set by an admin)."""

from __future__ import annotations

from app.services import accounts, admin_keys
from app.services.actor import Actor
from tests.conftest import PASSWORD


def test_key_with_its_own_limit_is_refused_past_it_while_the_owners_other_key_is_not(
        make_app):
    app = make_app(PARLOR_RATE_LIMIT="100/minute")
    client = app.test_client()
    with app.app_context():
        accounts.create_user("member@example.com", PASSWORD)
        admin = Actor(user_id=None, ip=None)
        _, tight = admin_keys.create(admin, email="member@example.com", rate_limit="2/minute")
        _, normal = admin_keys.create(admin, email="member@example.com")
    statuses = [client.get("/v1/models", headers={"Authorization": f"Bearer {tight}"})
                .status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/v1/models",
                      headers={"Authorization": f"Bearer {normal}"}).status_code == 200


def test_admin_refuses_a_malformed_key_rate_limit(make_app):
    import pytest

    app = make_app()
    with app.app_context():
        accounts.create_user("member@example.com", PASSWORD)
        with pytest.raises(admin_keys.KeyRequestError, match="rate limit"):
            admin_keys.create(Actor(user_id=None, ip=None), email="member@example.com",
                              rate_limit="lots")
