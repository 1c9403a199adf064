"""The access rule every admin screen shares."""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from app.extensions import login_manager
from app.services.actor import Actor


def require_admin():
    """Anonymous visitors go to the login page; signed-in non-admins get 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


def actor() -> Actor:
    """The signed-in admin and their address, for the audit trail."""
    return Actor(user_id=current_user.id, ip=request.remote_addr)


def page_number() -> int:
    return request.args.get("page", 1, type=int) or 1
