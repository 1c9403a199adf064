"""The API tests' app: Parlor wired to the fake vendor, served over real HTTP for the SDKs."""

from __future__ import annotations

import anthropic
import openai
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, ModelRoute, Role, UsageRecord, VendorCredential

MAX_REQUEST_BYTES = 64 * 1024


@pytest.fixture
def app(make_app, vendor_env):
    """Served by ``live_server``: both vendors point at the fake, under their own key."""
    return make_app(PARLOR_MAX_REQUEST_BYTES=MAX_REQUEST_BYTES, **vendor_env)


@pytest.fixture
def member_key(make_key):
    return make_key()


@pytest.fixture
def openai_client(live_server, member_key):
    with openai.OpenAI(base_url=live_server + "/v1", api_key=member_key, max_retries=0) as client:
        yield client


@pytest.fixture
def anthropic_client(live_server, member_key):
    with anthropic.Anthropic(base_url=live_server, api_key=member_key, max_retries=0) as client:
        yield client


@pytest.fixture
def usage_records(app):
    """The ledger's rows, oldest first, as plain dicts."""

    def read() -> list[dict]:
        with app.app_context():
            rows = db.session.scalars(select(UsageRecord).order_by(UsageRecord.id))
            return [{"model": r.model, "route": r.route, "input_tokens": r.input_tokens,
                     "output_tokens": r.output_tokens, "status": r.status, "source": r.source,
                     "user_id": r.user_id, "api_key_id": r.api_key_id} for r in rows]

    return read


@pytest.fixture
def key_row(app):
    def read(secret: str) -> ApiKey:
        with app.app_context():
            row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == keys_prefix(secret)))
            db.session.expunge(row)
            return row

    return read


def keys_prefix(secret: str) -> str:
    return "-".join(secret.split("-")[:2])


@pytest.fixture
def admin_only_route(app):
    """A route ``admin-only`` (to the fake's ``fake-large``) that only the admin role may use."""
    with app.app_context():
        credential = VendorCredential(name="openai", kind="openai-compatible")
        admin = db.session.scalar(select(Role).where(Role.name == "admin"))
        db.session.add(ModelRoute(public_name="admin-only", credential=credential,
                                  upstream_model="fake-large", roles=[admin]))
        db.session.commit()
    return "admin-only"
