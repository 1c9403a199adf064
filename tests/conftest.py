"""Shared fixtures: a fresh app and database per test, users, logins and the fake vendor."""

from __future__ import annotations

import os
import re
import secrets
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

import config
from app import create_app
from app.extensions import db
from app.services import accounts
from tests.fakes.fixtures import fake_vendor, fake_vendor_server  # noqa: F401

# Every variable config.py reads; tests start from none of them so the host cannot leak in.
CONFIG_VARIABLES = sorted(set(re.findall(r'_(?:env|flag)\("([A-Z0-9_]+)"',
                                         Path(config.__file__).read_text())))
TEST_FERNET_KEY = Fernet.generate_key().decode()
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
# Screenshots of the main screens land here (git-ignored).
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARLOR_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("SECRET_KEY", "test-" + secrets.token_hex(8))
    monkeypatch.setenv("PARLOR_ENCRYPTION_KEYS", TEST_FERNET_KEY)
    monkeypatch.setenv("PARLOR_VENDOR_RETRIES", "0")


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL database for the session, dropped at the end."""
    import psycopg

    name = "parlor_test_" + secrets.token_hex(4)
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


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


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request, tmp_path):
    """Run a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/parlor.db"
    return request.getfixturevalue("postgres_url")


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


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client, email: str, password: str = PASSWORD):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


@pytest.fixture
def make_key(app):
    """A user (made once per e-mail) with ``role`` and a new API key; returns the key."""

    def factory(email="member@example.com", role="member", **key_fields) -> str:
        from app.repositories import accounts as accounts_repo
        from app.services import keys

        with app.app_context():
            user = accounts_repo.user_by_email(email) or accounts.create_user(
                email, PASSWORD, role=role)
            _, secret = keys.create_key(user, name="test", **key_fields)
            return secret

    return factory


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
def live_server(app):
    """The test app served by a real threaded WSGI server; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short shutdown poll: each test that serves ends quickly.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def screenshot(page):
    """Save a screenshot of the current page as test-results/screenshots/<name>.png."""

    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
