"""The contract the API-key cache relies on: noting a key's last use bypasses the ORM, so it
does not move the access generation (which would empty every process's cache), while a real
access change through the ORM does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey
from app.repositories import accounts as accounts_repo
from app.services import access_cache
from tests.conftest import bearer


def _generation(app) -> bytes:
    with app.app_context():
        return access_cache.cache().generation.current()


def _last_used(app):
    with app.app_context():
        return db.session.scalars(select(ApiKey.last_used_at)).one()


def test_first_call_of_a_key_notes_its_use_without_moving_the_generation(app, make_key):
    secret = make_key()
    before = _generation(app)
    assert _last_used(app) is None

    assert app.test_client().get("/v1/models", headers=bearer(secret)).status_code == 200

    assert _last_used(app) is not None  # the use was written...
    assert _generation(app) == before  # ...and no process has to read its keys again


def test_touch_key_writes_past_the_orm(app, make_key):
    make_key()
    with app.app_context():
        key_id = db.session.scalar(select(ApiKey.id))
        db.session.expunge_all()
        accounts_repo.touch_key(key_id, datetime.now(UTC))
        assert not db.session.identity_map and not db.session.new  # no ORM object involved
        db.session.commit()


def test_an_access_change_through_the_orm_moves_the_generation(app, make_key):
    make_key()
    before = _generation(app)
    with app.app_context():
        db.session.scalars(select(ApiKey)).one().name = "renamed"
        db.session.commit()

    assert _generation(app) != before
