"""The per-process cache of API keys: kept until a key, user or role changes anywhere.

Other processes are real ones here: the ``flask`` CLI revoking a key while the app under test
holds it, and two apps with caches of their own sharing one Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.services import keys
from app.services.access_cache import FileGeneration
from tests.conftest import fake_vendor_env

ROOT = Path(__file__).resolve().parent.parent
CHAT = {"model": "openai/fake-chat", "messages": [{"role": "user", "content": "hello there"}]}
MEMBER = "member@example.com"


@pytest.fixture
def vendor_env(fake_vendor):
    """Only the ``openai`` vendor, at the fake."""
    return fake_vendor_env(fake_vendor, "openai")


def call(app, secret: str) -> int:
    return app.test_client().post("/v1/chat/completions", json=CHAT,
                                  headers={"Authorization": f"Bearer {secret}"}).status_code


def prefix(secret: str) -> str:
    return "-".join(secret.split("-")[:2])


def test_a_key_revoked_by_another_process_is_refused_on_the_next_call(make_app, make_key,
                                                                        vendor_env):
    app = make_app(**vendor_env)
    secret = make_key(MEMBER)
    assert call(app, secret) == 200 and call(app, secret) == 200  # kept by this process

    subprocess.run([sys.executable, "-m", "flask", "--app", "run", "keys", "revoke",
                    prefix(secret)], cwd=ROOT, env=dict(os.environ), check=True,
                   capture_output=True)

    assert call(app, secret) == 401


def test_a_disabled_owner_and_a_role_without_api_access_are_refused_at_once(
        make_app, make_key, vendor_env):
    app = make_app(**vendor_env)
    disabled, demoted = make_key(MEMBER), make_key("viewer@example.com")
    assert call(app, disabled) == 200 and call(app, demoted) == 200
    with app.app_context():
        db.session.scalar(select(User).where(User.email == MEMBER)).is_enabled = False
        db.session.commit()
    assert call(app, disabled) == 401

    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "member"))
        role.permissions = [p for p in role.permissions if p != "api"]
        db.session.commit()
    assert call(app, demoted) == 403


def test_a_key_revoked_on_one_host_is_refused_by_another_through_redis(
        make_app, make_key, vendor_env, redis_server, tmp_path):  # noqa: F811
    """Two apps with instance folders of their own: only Redis tells one of the other's change."""
    one = make_app(REDIS_URL=redis_server.url, **vendor_env)
    other = make_app(REDIS_URL=redis_server.url, PARLOR_INSTANCE_PATH=tmp_path / "elsewhere",
                     **vendor_env)
    secret = make_key(MEMBER)
    assert call(other, secret) == 200 and call(other, secret) == 200

    with one.app_context():
        keys.revoke_key(prefix(secret))

    assert call(other, secret) == 401


def test_with_redis_down_keys_are_read_from_the_database_so_a_revocation_still_holds(
        make_app, make_key, vendor_env, redis_server):  # noqa: F811
    app = make_app(REDIS_URL=redis_server.url, **vendor_env)
    secret, kept = make_key(MEMBER), make_key(MEMBER)
    assert call(app, secret) == 200
    redis_server.stop()

    assert call(app, kept) == 200  # rate limits count in memory, the key comes from the database
    with app.app_context():
        keys.revoke_key(prefix(secret))  # the change cannot reach Redis
    assert call(app, secret) == 401


def test_the_file_generation_moves_on_with_each_change_and_starts_without_a_file(tmp_path):
    generation = FileGeneration(tmp_path / "instance")
    seen = {generation.current()}
    for _ in range(20):
        generation.advance()
        seen.add(generation.current())
    assert len(seen) == 21
    assert sorted(p.name for p in (tmp_path / "instance").iterdir()) == ["access-generation"]
