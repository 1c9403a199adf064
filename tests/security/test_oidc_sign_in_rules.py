"""Who a provider's verified claims sign in as (app/services/oidc.py): just-in-time users
need a verified e-mail, an existing account is linked only when linking is on, roles follow
the groups claim on every sign-in, and a disabled account stays out. The whole browser flow
against a real provider is tests/web/test_sso_browser.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import config
from app.extensions import db
from app.models import AuditEvent, UserIdentity
from app.repositories import accounts as accounts_repo
from app.services import oidc
from config import ConfigError, parse_role_map

ISSUER = "https://id.example.com"
RULES = oidc.OidcRules(roles_claim="groups",
                       role_map=(("parlor-admins", "admin"), ("staff", "member")))


def claims(sub="u1", email="ann@example.com", verified=True, groups=("staff",)) -> dict:
    return {"sub": sub, "email": email, "email_verified": verified, "groups": list(groups),
            "name": "Ann"}


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_unverified_email_is_refused_and_no_user_is_made(app):
    with app.app_context():
        with pytest.raises(oidc.SignInRefused, match="not verified your e-mail"):
            oidc.sign_in(ISSUER, claims(verified=False), RULES)
        assert accounts_repo.user_by_email("ann@example.com") is None
        assert actions() == ["login.oidc_refused"]


def test_existing_account_is_not_taken_over_without_link_by_email(app, make_user):
    make_user("ann@example.com")
    with app.app_context():
        with pytest.raises(oidc.SignInRefused, match="already exists"):
            oidc.sign_in(ISSUER, claims(), RULES)
        assert db.session.scalar(select(UserIdentity)) is None


def test_existing_account_is_linked_by_verified_email_when_linking_is_on(app, make_user):
    user_id = make_user("ann@example.com")
    rules = oidc.OidcRules(**{**RULES.__dict__, "link_by_email": True})
    with app.app_context():
        user = oidc.sign_in(ISSUER, claims(), rules)
        assert user.id == user_id
        identity = db.session.scalar(select(UserIdentity))
        assert (identity.user_id, identity.subject) == (user_id, "u1")
        assert "user.oidc_linked" in actions()


def test_unverified_email_never_links_an_existing_account(app, make_user):
    make_user("ann@example.com")
    rules = oidc.OidcRules(**{**RULES.__dict__, "link_by_email": True})
    with app.app_context():
        with pytest.raises(oidc.SignInRefused):
            oidc.sign_in(ISSUER, claims(verified=False), rules)
        assert db.session.scalar(select(UserIdentity)) is None


def test_known_identity_signs_in_by_subject_even_after_an_email_change(app):
    with app.app_context():
        first = oidc.sign_in(ISSUER, claims(), RULES)
        again = oidc.sign_in(ISSUER, claims(email="ann.new@example.com"), RULES)
        assert again.id == first.id


def test_first_matching_pair_of_the_map_wins_and_roles_follow_groups(app):
    with app.app_context():
        user = oidc.sign_in(ISSUER, claims(groups=("staff", "parlor-admins")), RULES)
        assert user.role.name == "admin"
        user = oidc.sign_in(ISSUER, claims(groups=("staff",)), RULES)
        assert user.role.name == "member"


def test_groups_claim_as_a_string_is_split():
    assert oidc.groups_of({"groups": "staff, parlor-admins"}, "groups") == [
        "staff", "parlor-admins"]


def test_disabled_user_is_refused(app):
    with app.app_context():
        user = oidc.sign_in(ISSUER, claims(), RULES)
        user.is_enabled = False
        db.session.commit()
        with pytest.raises(oidc.SignInRefused, match="disabled"):
            oidc.sign_in(ISSUER, claims(), RULES)


def test_map_to_a_missing_role_is_a_clear_refusal(app):
    rules = oidc.OidcRules(roles_claim="groups", role_map=(("staff", "auditors"),))
    with app.app_context():
        with pytest.raises(oidc.SignInRefused, match="no role named 'auditors'"):
            oidc.sign_in(ISSUER, claims(), rules)


def test_without_a_roles_claim_new_users_get_the_default_role_and_keep_theirs(app):
    rules = oidc.OidcRules(default_role="admin")
    with app.app_context():
        user = oidc.sign_in(ISSUER, claims(), rules)
        assert user.role.name == "admin"


def test_bad_role_map_and_password_off_without_sso_are_config_errors(monkeypatch):
    with pytest.raises(ConfigError, match="is not group=role"):
        parse_role_map("staff")
    assert parse_role_map("a=admin, b=member") == [("a", "admin"), ("b", "member")]
    monkeypatch.setenv("PARLOR_PASSWORD_LOGIN", "off")
    with pytest.raises(ConfigError, match="PARLOR_PASSWORD_LOGIN=off needs"):
        config.TestingConfig()


def test_with_password_login_off_the_cli_still_creates_an_admin(make_app):
    from tests.conftest import PASSWORD
    from tests.servers import free_port

    app = make_app(PARLOR_PASSWORD_LOGIN="off",
                   PARLOR_OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
                   PARLOR_OIDC_CLIENT_ID="parlor")
    result = app.test_cli_runner().invoke(
        args=["users", "create", "ops@example.com", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert accounts_repo.user_by_email("ops@example.com").role.name == "admin"


def test_an_unreachable_provider_is_a_clear_503_not_a_500(make_app):
    from tests.servers import free_port

    app = make_app(PARLOR_OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
                   PARLOR_OIDC_CLIENT_ID="parlor", PARLOR_OIDC_CLIENT_SECRET="s3cret-value")
    response = app.test_client().get("/auth/oidc/login")

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "The sign-in provider cannot be reached right now" in page
    assert "s3cret-value" not in page


def test_a_callback_without_a_started_sign_in_is_refused(make_app):
    from tests.servers import free_port

    app = make_app(PARLOR_OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
                   PARLOR_OIDC_CLIENT_ID="parlor")
    response = app.test_client().get("/auth/oidc/callback?code=abc&state=forged")

    assert response.status_code == 400
    assert "could not be verified" in response.get_data(as_text=True)
    with app.app_context():
        assert actions() == ["login.oidc_refused"]


def test_a_provider_error_on_the_callback_is_shown_not_a_500(make_app):
    from tests.servers import free_port

    app = make_app(PARLOR_OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
                   PARLOR_OIDC_CLIENT_ID="parlor")
    response = app.test_client().get("/auth/oidc/callback?error=access_denied")

    assert response.status_code == 400
