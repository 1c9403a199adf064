"""``/api/v1/admin/usage``: everyone's usage over a date range — totals and one breakdown
(per day, user, key, model, source or tag; or of one tag's calls), summed in SQL by the same
report as /admin/usage."""

from __future__ import annotations

from app.api import rest
from app.api.errors import ApiError
from app.api.schemas.admin import AdminUsageOut, AdminUsageQuery
from app.api.schemas.rest import UsageLine
from app.services import usage_reports

bp = rest.admin_blueprint("rest_admin_usage", __name__)


@bp.get("/usage")
def show():
    """Requests, tokens, cost and errors in total and per ``group`` (days in order, other
    groups biggest first)."""
    query = rest.parse_query(AdminUsageQuery)
    try:
        flt = usage_reports.make_filter(query.start, query.end, query.source, tag=query.tag)
        lines = usage_reports.breakdown(flt, query.group)
    except usage_reports.ReportError as exc:
        raise ApiError(400, str(exc)) from None
    return rest.data(AdminUsageOut(
        start=flt.start.isoformat(), end=flt.end.isoformat(), source=flt.source,
        group=query.group, tag=flt.tag, totals=UsageLine.of(usage_reports.totals(flt)),
        lines=[UsageLine.of(line) for line in lines]))
