"""Admin screen: the audit trail, filterable by action, actor and date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, render_template, request

from app.admin.access import page_number, require_admin
from app.services import audit

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
bp.before_request(require_admin)


def _day(text: str | None, shift: int = 0) -> datetime | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=shift), time.min, tzinfo=UTC) if day else None


@bp.get("/")
def index():
    args = request.args
    filters = {k: args.get(k, "").strip()[:255] for k in ("action", "actor", "start", "end")}
    events = audit.search(action=filters["action"], actor=filters["actor"],
                         start=_day(filters["start"]), end=_day(filters["end"], 1),
                         page=page_number())
    return render_template("admin/audit.html", events=events, filters=filters,
                           actions=audit.actions())
