"""Admin screen: usage and cost by day, user, key, model and tag (or of one tag's calls); a
daily chart; CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from app.admin.access import require_admin
from app.admin.charts import daily_chart
from app.services import usage_reports

bp = Blueprint("admin_usage", __name__, url_prefix="/admin/usage")
bp.before_request(require_admin)


def _filter():
    args = request.args
    return usage_reports.make_filter(args.get("start"), args.get("end"), args.get("source"),
                                     tag=args.get("tag"))


@bp.get("/")
def index():
    try:
        flt = _filter()
    except usage_reports.ReportError as exc:
        flt, error = usage_reports.make_filter(None, None, None), str(exc)
        status = 400
    else:
        error, status = None, 200
    report = usage_reports.report(flt)
    return render_template("admin/usage.html", report=report, chart=daily_chart(report.days),
                           error=error, sources=usage_reports.SOURCES), status


@bp.get("/usage.csv")
def export_csv():
    try:
        flt = _filter()
        lines = list(usage_reports.csv_lines(flt, request.args.get("group", "day")))
    except usage_reports.ReportError as exc:
        return Response(str(exc) + "\n", status=400, mimetype="text/plain")
    name = f"parlor-usage-{request.args.get('group', 'day')}-{flt.start}-{flt.end}.csv"
    return Response(lines, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
