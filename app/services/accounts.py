"""Accounts: built-in roles, users, passwords and the first admin."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Role, User
from app.repositories import accounts as repo
from app.services import audit

BUILTIN_ROLES = {
    "admin": ("Manages users, keys, vendors and models", ["chat", "api", "own_keys", "admin"]),
    "member": ("Chats and uses the API", ["chat", "api", "own_keys"]),
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
# Compared against when the e-mail is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("parlor-timing-equaliser")


class AccountError(ValueError):
    """A request about accounts that breaks a rule (shown to the user as is)."""


def ensure_builtin_roles() -> dict[str, Role]:
    roles = {}
    for name, (description, permissions) in BUILTIN_ROLES.items():
        role = repo.role_by_name(name)
        if role is None:
            role = Role(name=name, description=description, builtin=True, permissions=permissions)
            repo.add(role)
        roles[name] = role
    db.session.flush()
    return roles


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL.match(email) or len(email) > 255:
        raise AccountError("Enter a valid e-mail address.")
    return email


def create_user(email: str, password: str, role: str = "member", display_name: str = "") -> User:
    email = normalise_email(email)
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"The password needs at least {MIN_PASSWORD} characters.")
    if repo.user_by_email(email):
        raise AccountError(f"A user with the e-mail {email} already exists.")
    roles = ensure_builtin_roles()
    role_obj = roles.get(role) or repo.role_by_name(role)
    if role_obj is None:
        raise AccountError(f"There is no role named {role!r}.")
    user = User(
        email=email,
        display_name=display_name or email.split("@")[0],
        password_hash=generate_password_hash(password),
        role=role_obj,
    )
    repo.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with this e-mail and password, or None (whichever of the two was wrong)."""
    user = repo.user_by_email(email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.is_enabled:
        return None
    user.last_login_at = datetime.now(UTC)
    db.session.commit()
    return user


def record_failed_login(email: str | None, ip: str | None = None) -> None:
    """Leave a ``login.failed`` audit event naming the e-mail tried (never the password)."""
    audit.record("login.failed", target=(email or "")[:255], ip=ip)
    db.session.commit()


def load_session_user(session_id: str) -> User | None:
    """The user behind a session id ``<id>:<version>``; stale versions are logged out."""
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = repo.user_by_id(int(user_id))
    if user is None or user.session_version != int(version) or not user.is_enabled:
        return None
    return user


def ensure_first_admin(email: str | None, password: str | None) -> tuple[User | None, str | None]:
    """Create the first admin when no user exists.

    Returns the new admin and the generated password (None when one was given), or (None, None)
    when users already exist.
    """
    ensure_builtin_roles()
    db.session.commit()
    if repo.count_users():
        return None, None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(15)
    admin = create_user(email or "admin@example.com", password, role="admin",
                        display_name="Administrator")
    return admin, generated
