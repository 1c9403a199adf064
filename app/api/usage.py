"""``/api/v1/usage``: the caller's own usage over a date range (default: the last 30 days)."""

from __future__ import annotations

from app.api import rest, rest_auth
from app.api.errors import ApiError
from app.api.schemas.rest import UsageLine, UsageOut, UsageQuery
from app.services import own_usage

bp = rest.blueprint("rest_usage", __name__)


@bp.get("/usage")
def show():
    """Requests, tokens, cost and errors: in total, per day, per model and per spend tag."""
    query = rest.parse_query(UsageQuery)
    try:
        flt = own_usage.make_filter(query.start, query.end, query.source, tag=query.tag)
    except own_usage.ReportError as exc:
        raise ApiError(400, str(exc)) from None
    found = own_usage.report(rest_auth.current().user, flt)
    return rest.data(UsageOut(
        start=flt.start.isoformat(), end=flt.end.isoformat(), source=flt.source,
        totals=UsageLine.of(found.totals), days=[UsageLine.of(d) for d in found.days],
        models=[UsageLine.of(m) for m in found.models], tag=flt.tag,
        tags=[UsageLine.of(t) for t in found.tags]))
