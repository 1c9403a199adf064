"""Managing users as an admin: create, change role, disable, reset password, delete.

Each action checks its rule, commits and leaves an audit event (never a password).
"""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import User
from app.repositories import accounts as repo
from app.repositories.pages import Page
from app.services import accounts, attachments, audit, profile
from app.services.accounts import MIN_PASSWORD, AccountError
from app.services.actor import Actor
from app.services.roles import MAX_BUDGET


def search(query: str = "", page: int = 1, per_page: int = 25) -> Page[User]:
    """Users whose e-mail or name contains ``query``, a page at a time."""
    return repo.search_users(query, page=page, per_page=per_page)


def find(user_id: int) -> User | None:
    """The user with this id, or None."""
    return repo.user_by_id(user_id)


def count() -> int:
    """How many users there are."""
    return repo.count_users()


def create(actor: Actor, *, email: str, password: str, role: str,
           display_name: str = "") -> User:
    user = accounts.create_user(email, password, role=role,
                                display_name=(display_name or "").strip())
    _record(actor, "user.created", user, role=user.role.name)
    db.session.commit()
    return user


def change_role(actor: Actor, user: User, role_name: str) -> User:
    role = repo.role_by_name(role_name)
    if role is None:
        raise AccountError(f"There is no role named {role_name!r}.")
    if role.id == user.role_id:
        return user
    if user.is_admin and not role.can("admin"):
        _keep_an_admin(actor, user, "take the admin role from")
    previous = user.role.name
    user.role = role
    _record(actor, "user.role_changed", user, before=previous, after=role.name)
    db.session.commit()
    return user


def rename(actor: Actor, user: User, display_name: str) -> User:
    """Change ``user``'s display name (the same rule as their own settings page)."""
    before = user.display_name
    profile.rename(user, display_name)  # commits
    if user.display_name != before:
        _record(actor, "user.renamed", user, before=before, after=user.display_name)
        db.session.commit()
    return user


def set_budget(actor: Actor, user: User, monthly_token_budget: int | None) -> User:
    """Give ``user`` their own monthly token budget, overriding their role's (None: the
    role's again)."""
    tokens = monthly_token_budget
    if tokens is not None and (isinstance(tokens, bool) or not 0 <= tokens <= MAX_BUDGET):
        raise AccountError(f"The monthly budget is a number of tokens, 0 to {MAX_BUDGET:,} "
                           "(empty: the role's).")
    before = user.monthly_token_budget
    if before != tokens:
        user.monthly_token_budget = tokens
        _record(actor, "user.budget_changed", user, before=before, after=tokens)
        db.session.commit()
    return user


def set_enabled(actor: Actor, user: User, enabled: bool) -> User:
    """Enable or disable ``user``; disabling ends their sessions and stops their API keys."""
    if user.is_enabled == enabled:
        return user
    if not enabled:
        _keep_an_admin(actor, user, "disable")
        user.session_version += 1
    user.is_enabled = enabled
    _record(actor, "user.enabled" if enabled else "user.disabled", user)
    db.session.commit()
    return user


def reset_password(actor: Actor, user: User, password: str, *, revoke_keys: bool = False) -> User:
    """Set a new password; every session of the user ends (and their keys, if asked)."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"The password needs at least {MIN_PASSWORD} characters.")
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    revoked = 0
    if revoke_keys:
        now = datetime.now(UTC)
        for key in repo.keys_of_user(user.id):
            if key.revoked_at is None:
                key.revoked_at, revoked = now, revoked + 1
    _record(actor, "user.password_reset", user, keys_revoked=revoked)
    db.session.commit()
    return user


def delete(actor: Actor, user: User) -> None:
    """Delete ``user`` with their conversations and keys (the database cascades)."""
    _keep_an_admin(actor, user, "delete")
    _record(actor, "user.deleted", user)
    user_id = user.id
    repo.delete(user)
    db.session.commit()
    attachments.forget_files_of(user_id)  # the rows went with the user; files on disk follow


def _keep_an_admin(actor: Actor, user: User, verb: str) -> None:
    if user.id == actor.user_id:
        raise AccountError(f"You cannot {verb} your own account.")
    if user.is_admin and user.is_enabled and repo.count_enabled_admins() <= 1:
        raise AccountError(f"You cannot {verb} the last enabled admin.")


def _record(actor: Actor, action: str, user: User, **detail) -> None:
    audit.record(action, actor_id=actor.user_id, ip=actor.ip, target=f"user:{user.email}",
                 **detail)
