"""The admin dashboard: links to every screen and this month's headline numbers."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.admin.access import require_admin
from app.services import admin_keys, admin_users, usage_reports

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)


@bp.get("/")
def dashboard():
    return render_template(
        "admin/dashboard.html",
        user_count=admin_users.count(),
        key_count=admin_keys.count_live(),
        month=usage_reports.month_totals(),
    )
