"""``/api/v1/admin/audit``: the audit trail, newest first, filtered by action, actor and day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.api import rest
from app.api.admin.shared import page_items
from app.api.errors import ApiError
from app.api.schemas.admin import AuditOut, AuditQuery
from app.services import audit

bp = rest.admin_blueprint("rest_admin_audit", __name__)


def _day(text: str | None, name: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise ApiError(400, f"{name}: not a date.", param=name) from None


def _midnight(day: date | None, shift: int = 0) -> datetime | None:
    return datetime.combine(day + timedelta(days=shift), time.min, tzinfo=UTC) if day else None


@bp.get("/audit")
def index():
    """Events a page at a time; ``action`` matches a prefix, ``actor`` a part of an e-mail."""
    query = rest.parse_query(AuditQuery)
    start, end = _day(query.start, "start"), _day(query.end, "end")
    if start and end and start > end:
        raise ApiError(400, "The start date is after the end date.", param="start")
    found = audit.search(action=query.action.strip(), actor=query.actor.strip(),
                        start=_midnight(start), end=_midnight(end, 1),
                        page=query.page, per_page=query.per_page)
    rows, meta = page_items(found, query)
    items = [AuditOut(id=event.id, action=event.action, actor_id=event.actor_id, actor=email,
                      target=event.target, ip=event.ip, detail=event.detail or {},
                      created_at=event.created_at) for event, email in rows]
    return rest.listing(items, meta)
