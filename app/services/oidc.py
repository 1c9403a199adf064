"""OpenID Connect sign-in rules: who a provider's verified claims sign in as, and with which
role. The protocol (discovery, PKCE, state, nonce, token checks) is Authlib's, in
``app/web/oidc.py``; this module only sees claims the provider has already vouched for.

- A known identity (issuer + ``sub``) signs in as its user.
- A new identity needs a verified e-mail. It becomes a new user (just in time), or, only with
  ``PARLOR_OIDC_LINK_BY_EMAIL`` on, is linked to the existing account of that e-mail.
- With ``PARLOR_OIDC_ROLES_CLAIM`` set, the role is worked out on every sign-in from that claim
  through ``PARLOR_OIDC_ROLE_MAP`` (first matching pair wins), else
  ``PARLOR_OIDC_DEFAULT_ROLE``; with neither, the sign-in is refused.
Sign-ins, links, new users, role changes and refusals go to the audit log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import User, UserIdentity
from app.repositories import accounts as accounts_repo
from app.repositories import identity as repo
from app.services import accounts, audit


class SignInRefused(Exception):
    """The provider's user may not sign in to Parlor; the message is shown to them as is."""


@dataclass(frozen=True)
class OidcRules:
    """The sign-in settings of ``PARLOR_OIDC_*`` (config.py)."""

    roles_claim: str | None = None
    role_map: tuple[tuple[str, str], ...] = ()
    default_role: str | None = None
    link_by_email: bool = False

    @classmethod
    def from_config(cls, config) -> OidcRules:
        return cls(roles_claim=config.get("PARLOR_OIDC_ROLES_CLAIM"),
                   role_map=tuple(config.get("PARLOR_OIDC_ROLE_MAP") or ()),
                   default_role=config.get("PARLOR_OIDC_DEFAULT_ROLE"),
                   link_by_email=bool(config.get("PARLOR_OIDC_LINK_BY_EMAIL")))


def groups_of(claims: dict, claim: str) -> list[str]:
    """The claim's groups: a list, or one string of names split by commas or spaces."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, list | tuple):
        return [str(part) for part in value]
    return []


def mapped_role(claims: dict, rules: OidcRules) -> str | None:
    """The role name the claims map to: the first pair of the map whose group the user is in,
    else the default role (None: no role, refuse)."""
    groups = set(groups_of(claims, rules.roles_claim or ""))
    for group, role in rules.role_map:
        if group in groups:
            return role
    return rules.default_role


def _verified(claims: dict) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def sign_in(issuer: str, claims: dict, rules: OidcRules, ip: str | None = None) -> User:
    """The user these verified claims sign in as, created, linked or re-roled as the rules say.
    Raises :class:`SignInRefused` (audited) when they may not sign in."""
    try:
        user = _sign_in(issuer, claims, rules, ip)
    except SignInRefused as refusal:
        db.session.rollback()
        audit.record("login.oidc_refused", target=str(claims.get("email") or "")[:255], ip=ip,
                     subject=str(claims.get("sub", ""))[:255], reason=str(refusal))
        db.session.commit()
        raise
    db.session.commit()
    return user


def record_refusal(reason: str, ip: str | None = None) -> None:
    """Audit a sign-in whose provider answer failed its checks (state, nonce, token)."""
    audit.record("login.oidc_refused", ip=ip, reason=reason[:200])
    db.session.commit()


def _sign_in(issuer: str, claims: dict, rules: OidcRules, ip: str | None) -> User:
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SignInRefused("The provider did not say who you are (no subject).")
    identity = repo.by_subject(issuer, subject)
    email = str(claims.get("email") or "").strip().lower()
    role_name = mapped_role(claims, rules) if rules.roles_claim else None
    if rules.roles_claim and role_name is None:
        raise SignInRefused("Your account is in no group that may use Parlor. "
                            "Ask an administrator for access.")
    if identity is None:
        user = _first_sign_in(issuer, subject, email, claims, rules, role_name, ip)
    else:
        user = accounts_repo.user_by_id(identity.user_id)
        if _verified(claims) and email:
            identity.email = email
        identity.last_login_at = datetime.now(UTC)
    if user is None or not user.is_enabled:
        raise SignInRefused("This account is disabled.")
    if role_name is not None and user.role.name != role_name:
        previous = user.role.name
        user.role = _role(role_name)
        audit.record("user.role_changed", actor_id=None, target=f"user:{user.email}", ip=ip,
                     before=previous, after=role_name, source="oidc_claims")
    user.last_login_at = datetime.now(UTC)
    audit.record("login.oidc", actor_id=user.id, target=f"user:{user.email}", ip=ip,
                 issuer=issuer)
    return user


def _first_sign_in(issuer: str, subject: str, email: str, claims: dict, rules: OidcRules,
                   role_name: str | None, ip: str | None) -> User:
    if not email or not _verified(claims):
        raise SignInRefused("Your provider has not verified your e-mail address, "
                            "so Parlor cannot sign you in.")
    try:
        email = accounts.normalise_email(email)
    except accounts.AccountError as error:
        raise SignInRefused(str(error)) from None
    user = accounts_repo.user_by_email(email)
    if user is not None:
        if not rules.link_by_email:
            raise SignInRefused("An account with this e-mail address already exists. "
                                "Sign in with your password, or ask an administrator.")
        audit.record("user.oidc_linked", actor_id=user.id, target=f"user:{email}", ip=ip,
                     issuer=issuer)
    else:
        accounts.ensure_builtin_roles()
        role = _role(role_name or rules.default_role or "member")
        name = str(claims.get("name") or claims.get("preferred_username") or "")[:120]
        # No password: a random one nobody knows (the account signs in through the provider).
        user = User(email=email, display_name=name or email.split("@")[0], role=role,
                    password_hash=generate_password_hash(secrets.token_urlsafe(32)))
        accounts_repo.add(user)
        db.session.flush()
        audit.record("user.created", actor_id=None, target=f"user:{email}", ip=ip,
                     role=role.name, source="oidc")
    repo.add(UserIdentity(user_id=user.id, issuer=issuer, subject=subject, email=email,
                          last_login_at=datetime.now(UTC)))
    return user


def _role(name: str):
    role = accounts_repo.role_by_name(name)
    if role is None:
        raise SignInRefused(f"Parlor has no role named {name!r} for your group; "
                            "ask an administrator to fix PARLOR_OIDC_ROLE_MAP.")
    return role
