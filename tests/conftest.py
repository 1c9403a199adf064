"""Shared fixtures: a fresh app and database per test, users, keys, logins and the fake vendor.

PostgreSQL, served apps, Redis and gunicorn processes come from the plugin modules below.
"""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import config
from app import create_app
from app.extensions import db
from app.models import UsageRecord
from app.repositories import accounts as accounts_repo
from app.services import accounts, keys

# Fixtures of their own modules: the fake vendor server and the stalling upstream, served apps
# and Redis, every PostgreSQL one, gunicorn processes.
pytest_plugins = ["tests.fakes.fixtures", "tests.stalling_vendor", "tests.servers",
                  "tests.postgres", "tests.processes"]

# Every variable config.py reads; tests start from none of them so the host cannot leak in.
CONFIG_VARIABLES = sorted(set(re.findall(r'_(?:env|flag)\("([A-Z0-9_]+)"',
                                         Path(config.__file__).read_text())))
TEST_FERNET_KEY = Fernet.generate_key().decode()
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
# Screenshots of the main screens land here (git-ignored).
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"


def pytest_configure(config):
    """pytest-playwright empties its output folder (default ``test-results/``) when a session
    starts: two sessions at once (a developer's and CI's, or parallel runs) would delete each
    other's traces. Each session gets a folder of its own; screenshots stay in SCREENSHOTS."""
    if getattr(config.option, "output", None) == "test-results":
        config.option.output = tempfile.mkdtemp(prefix="parlor-playwright-")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARLOR_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("SECRET_KEY", "test-" + secrets.token_hex(8))
    monkeypatch.setenv("PARLOR_ENCRYPTION_KEYS", TEST_FERNET_KEY)
    monkeypatch.setenv("PARLOR_VENDOR_RETRIES", "0")


@pytest.fixture
def make_app(monkeypatch, tmp_path):
    """Build an app from environment variables, with a fresh schema; closes it afterwards."""
    built = []

    def factory(database_url: str | None = None, **env):
        monkeypatch.setenv("DATABASE_URL", database_url or f"sqlite:///{tmp_path}/parlor.db")
        for key, value in env.items():
            monkeypatch.setenv(key, str(value))
        app = create_app(config.TestingConfig())
        with app.app_context():
            db.drop_all()
            db.create_all()
            accounts.ensure_builtin_roles()
            db.session.commit()
        built.append(app)
        return app

    yield factory
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def fake_vendor_env(vendor, *names: str) -> dict:
    """The environment pointing each vendor of ``names`` ("openai", "anthropic") at the fake
    vendor server ``vendor``, under its key."""
    urls = {"openai": vendor.openai_base_url, "anthropic": vendor.anthropic_base_url}
    env = {}
    for name in names:
        env[f"{name.upper()}_BASE_URL"] = urls[name]
        env[f"{name.upper()}_API_KEY"] = vendor.api_key
    return env


@pytest.fixture
def vendor_env(fake_vendor) -> dict:
    """Both environment vendors (``openai/…``, ``anthropic/…``) pointed at the fake vendor."""
    return fake_vendor_env(fake_vendor, "openai", "anthropic")


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    def factory(email="member@example.com", password=PASSWORD, role="member", **fields):
        with app.app_context():
            user = accounts.create_user(email, password, role=role)
            for key, value in fields.items():
                setattr(user, key, value)
            db.session.commit()
            return user.id

    return factory


@pytest.fixture
def usage_rows(app):
    """Read the ledger's rows, oldest first (detached from the session)."""

    def read() -> list[UsageRecord]:
        with app.app_context():
            rows = list(db.session.scalars(db.select(UsageRecord).order_by(UsageRecord.id)))
            db.session.expunge_all()
            return rows

    return read


def eventually(read, timeout: float = 10.0):
    """``read()`` once it returns something truthy, or its last value after ``timeout``
    (for what the server writes after the response, or after the client left)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client, email: str, password: str = PASSWORD):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


def new_key(app, email="member@example.com", role="member", **key_fields) -> str:
    """A user (made once per e-mail) with ``role`` and a new API key of theirs in ``app``;
    returns the key."""
    with app.app_context():
        user = accounts_repo.user_by_email(email) or accounts.create_user(
            email, PASSWORD, role=role)
        _, secret = keys.create_key(user, name="test", **key_fields)
        return secret


@pytest.fixture
def make_key(app):
    """:func:`new_key` in the test's app."""

    def factory(email="member@example.com", role="member", **key_fields) -> str:
        return new_key(app, email, role, **key_fields)

    return factory


def bearer(key: str) -> dict:
    """The ``Authorization`` header of an API key."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def member_client(client, make_user):
    make_user("member@example.com")
    log_in(client, "member@example.com")
    return client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright drives Debian's Chromium: `playwright install` cannot download here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def screenshot(page):
    """Save a screenshot of the current page as test-results/screenshots/<name>.png."""

    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
