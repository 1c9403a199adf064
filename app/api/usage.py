"""``/api/v1/usage``: the caller's own usage over a date range (default: the last 30 days)."""

from __future__ import annotations

from app.api import rest, rest_auth
from app.api.errors import ApiError
from app.api.schemas.rest import UsageLine, UsageOut, UsageQuery
from app.services import own_usage

bp = rest.blueprint("rest_usage", __name__)


def line_out(line) -> UsageLine:
    return UsageLine(label=line.label, requests=line.requests, input_tokens=line.input_tokens,
                     output_tokens=line.output_tokens, tokens=line.tokens,
                     cost=float(line.cost), errors=line.errors,
                     avg_latency_ms=line.avg_latency_ms)


@bp.get("/usage")
def show():
    """Requests, tokens, cost and errors: in total, per day and per model."""
    query = rest.parse_query(UsageQuery)
    try:
        flt = own_usage.make_filter(query.start, query.end, query.source)
    except own_usage.ReportError as exc:
        raise ApiError(400, str(exc)) from None
    found = own_usage.report(rest_auth.current().user, flt)
    return rest.data(UsageOut(
        start=flt.start.isoformat(), end=flt.end.isoformat(), source=flt.source,
        totals=line_out(found.totals), days=[line_out(d) for d in found.days],
        models=[line_out(m) for m in found.models]))
