"""The access rule every admin screen shares."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from app.extensions import login_manager


def require_admin():
    """Anonymous visitors go to the login page; signed-in non-admins get 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None
