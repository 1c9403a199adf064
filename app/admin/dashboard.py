"""The admin dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.admin.access import require_admin
from app.repositories import accounts

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)


@bp.get("/")
def dashboard():
    return render_template("admin/dashboard.html", user_count=accounts.count_users())
