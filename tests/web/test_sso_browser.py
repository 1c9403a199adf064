"""Single sign-on against a real OpenID Provider (panva's oidc-provider on loopback), driven
in Chromium: discovery, the redirect, the provider's login and consent pages, the callback.

The provider's users are in two mapped groups (``parlor-admins`` → admin, ``staff`` →
member) or in none (``contractors``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from flask_wtf.csrf import generate_csrf
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User, UserIdentity
from tests.conftest import PASSWORD
from tests.oidc.provider import OidcProvider, oidc_env, oidc_provider_package  # noqa: F401
from tests.servers import free_port

SSO_BUTTON = "Sign in with Acme SSO"
NOT_LOOPBACK = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


@pytest.fixture
def oidc_port() -> int:
    return free_port()


@pytest.fixture
def app(make_app, oidc_port, request):
    """Parlor signing in at the provider; ``indirect`` parameters add environment."""
    return make_app(**oidc_env(oidc_port, **getattr(request, "param", {})))


@pytest.fixture
def provider(oidc_provider_package, oidc_port, live_server, tmp_path):  # noqa: F811
    running = OidcProvider(oidc_provider_package, oidc_port, tmp_path, live_server)
    running.set_user("alice", "alice@example.com", ["staff"])
    running.set_user("mallory", "mallory@example.com", ["contractors"])
    yield running
    running.stop()


@pytest.fixture
def sso_page(page: Page) -> Page:
    """The page, offline: the provider's pages ask for a web font."""
    page.route(NOT_LOOPBACK, lambda route: route.abort())
    return page


def provider_sign_in(page: Page, login: str) -> None:
    """Sign in on the provider's own login page, then consent."""
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def sign_in_with_sso(page: Page, live_server: str, login: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_role("button", name=SSO_BUTTON).click()
    provider_sign_in(page, login)


def user_by_email(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            user.role  # noqa: B018 - loaded before the session closes
            db.session.expunge_all()
        return user


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_first_sso_sign_in_provisions_the_user_with_the_mapped_role(sso_page, live_server,
                                                                      provider, app):
    sign_in_with_sso(sso_page, live_server, "alice")

    expect(sso_page.get_by_role("link", name="New chat")).to_be_visible()
    user = user_by_email(app, "alice@example.com")
    assert user is not None and user.role.name == "member" and user.display_name == "Alice"
    with app.app_context():
        identity = db.session.scalar(select(UserIdentity))
        assert (identity.issuer, identity.subject) == (provider.issuer, "alice")
    assert {"user.created", "login.oidc"} <= set(audit_actions(app))


def test_group_change_moves_the_role_at_the_next_sign_in_and_logout_ends_both_sessions(
        sso_page, live_server, provider, app):
    sign_in_with_sso(sso_page, live_server, "alice")
    expect(sso_page.get_by_role("link", name="New chat")).to_be_visible()
    assert user_by_email(app, "alice@example.com").role.name == "member"

    # Log out: Parlor's session ends, then the provider's (RP-initiated logout).
    sso_page.get_by_role("button", name="Log out").click()
    sso_page.get_by_role("button", name="Yes, sign me out").click()
    expect(sso_page.get_by_role("button", name=SSO_BUTTON)).to_be_visible()
    assert sso_page.url.startswith(live_server + "/login")
    sso_page.goto(live_server + "/")
    expect(sso_page.get_by_role("heading", name="Log in to Parlor")).to_be_visible()

    provider.set_user("alice", "alice@example.com", ["parlor-admins"])
    sso_page.get_by_role("button", name=SSO_BUTTON).click()
    provider_sign_in(sso_page, "alice")  # the provider asks again: its session ended too
    expect(sso_page.get_by_role("link", name="New chat")).to_be_visible()
    assert user_by_email(app, "alice@example.com").role.name == "admin"
    with app.app_context():
        change = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "user.role_changed"))
        assert change.detail == {"before": "member", "after": "admin", "source": "oidc_claims"}


def test_user_in_no_mapped_group_is_refused(sso_page, live_server, provider, app):
    sign_in_with_sso(sso_page, live_server, "mallory")

    expect(sso_page.get_by_role("alert")).to_contain_text("in no group that may use Parlor")
    assert user_by_email(app, "mallory@example.com") is None
    assert "login.oidc_refused" in audit_actions(app)


@pytest.mark.parametrize("app", [{"PARLOR_OIDC_DEFAULT_ROLE": "member"}], indirect=True)
def test_user_in_no_mapped_group_gets_the_default_role(sso_page, live_server, provider, app):
    sign_in_with_sso(sso_page, live_server, "mallory")

    expect(sso_page.get_by_role("link", name="New chat")).to_be_visible()
    assert user_by_email(app, "mallory@example.com").role.name == "member"


def tamper_authorization(page: Page, live_server: str, param: str) -> None:
    """Change ``param`` of the authorization request Parlor sends the browser to."""

    def rewrite(route: Route) -> None:
        response = route.fetch(max_redirects=0)
        location = urlsplit(response.headers["location"])
        query = dict(parse_qsl(location.query))
        query[param] = "tampered-" + query[param]
        headers = {**response.headers,
                   "location": urlunsplit(location._replace(query=urlencode(query)))}
        route.fulfill(response=response, headers=headers)

    page.route(live_server + "/auth/oidc/login*", rewrite)


@pytest.mark.parametrize("param", ["state", "nonce"])
def test_tampered_state_or_nonce_is_refused(sso_page, live_server, provider, app, param):
    tamper_authorization(sso_page, live_server, param)
    sign_in_with_sso(sso_page, live_server, "alice")

    expect(sso_page.get_by_role("alert")).to_contain_text("could not be verified")
    assert user_by_email(app, "alice@example.com") is None
    sso_page.goto(live_server + "/")
    expect(sso_page.get_by_role("heading", name="Log in to Parlor")).to_be_visible()


@pytest.mark.parametrize("app", [{"PARLOR_PASSWORD_LOGIN": "off"}], indirect=True)
def test_with_password_login_off_the_form_is_gone_and_its_post_refused(
        sso_page, live_server, provider, app, make_user):
    make_user("member@example.com")
    sso_page.goto(live_server + "/login")
    expect(sso_page.get_by_role("button", name=SSO_BUTTON)).to_be_visible()
    expect(sso_page.get_by_label("Password")).to_have_count(0)
    expect(sso_page.get_by_role("button", name="Log in")).to_have_count(0)

    client = app.test_client()
    with client:
        client.get("/login")
        token = generate_csrf()  # a valid token: the refusal is the rule's, not CSRF's
        refused = client.post("/login", data={"csrf_token": token, "email": "member@example.com",
                                              "password": PASSWORD})
    assert refused.status_code == 403
    assert "Password sign-in is off" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out

    sign_in_with_sso(sso_page, live_server, "alice")
    expect(sso_page.get_by_role("link", name="New chat")).to_be_visible()
