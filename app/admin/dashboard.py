"""The admin dashboard: links to every screen and this month's headline numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template

from app.admin.access import require_admin
from app.repositories import accounts
from app.services import usage_reports

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)


@bp.get("/")
def dashboard():
    return render_template(
        "admin/dashboard.html",
        user_count=accounts.count_users(),
        key_count=accounts.count_live_keys(datetime.now(UTC)),
        month=usage_reports.month_totals(),
    )
