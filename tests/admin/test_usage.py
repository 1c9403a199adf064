"""Usage screen: SQL aggregates per day, user, key and model; the SVG chart; CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import UsageRecord, User
from app.services import keys, usage_reports
from tests.conftest import log_in

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
TODAY, YESTERDAY = NOW.date(), (NOW - timedelta(days=1)).date()


@pytest.fixture
def ledger(backend_url, make_app):
    """An app on SQLite or PostgreSQL with a small known ledger and a signed-in admin."""
    app = make_app(backend_url)
    with app.app_context():
        from app.services import accounts
        admin = accounts.create_user("admin@example.com", "correct horse battery", role="admin")
        alice = accounts.create_user("alice@example.com", "correct horse battery")
        key, _ = keys.create_key(alice, name="ci")
        rows = [
            (alice.id, None, "mock/echo", 100, 50, "0.01", 200, "complete", "web", NOW),
            (alice.id, key.id, "mock/echo", 10, 5, "0.001", 400, "error", "api", NOW),
            (admin.id, None, "fast", 1000, 500, "0.10", 600, "complete", "web", NOW),
            (alice.id, key.id, "fast", 7, 3, "0.5", 100, "complete", "api",
             NOW - timedelta(days=1)),
            (alice.id, None, "mock/echo", 9999, 9999, "9", 1, "complete", "web",
             NOW - timedelta(days=40)),  # outside the default 30 days
        ]
        db.session.add_all(UsageRecord(
            user_id=u, api_key_id=k, model=m, input_tokens=i, output_tokens=o, cost=Decimal(c),
            latency_ms=lat, status=s, source=src, created_at=at)
            for u, k, m, i, o, c, lat, s, src, at in rows)
        db.session.commit()
    client = app.test_client()
    log_in(client, "admin@example.com")
    return app, client


def test_report_aggregates_per_day_user_key_and_model(ledger):
    app, _ = ledger
    with app.app_context():
        report = usage_reports.report(usage_reports.make_filter(None, None, None))
        assert report.totals.requests == 4 and report.totals.tokens == 1675
        assert report.totals.errors == 1 and report.totals.cost == Decimal("0.611")
        assert len(report.days) == 30
        today = next(d for d in report.days if d.label == TODAY.isoformat())
        assert (today.requests, today.tokens, today.avg_latency_ms) == (3, 1665, 400)
        assert [(u.label, u.tokens) for u in report.users] == [
            ("admin@example.com", 1500), ("alice@example.com", 175)]
        assert [(m.label, m.requests) for m in report.models] == [("fast", 2), ("mock/echo", 2)]
        assert [(k.label, k.requests) for k in report.keys][0] == ("(web, no key)", 2)
        api = usage_reports.report(usage_reports.make_filter(None, None, "api"))
        assert api.totals.requests == 2 and api.totals.cost == Decimal("0.501")
        one_day = usage_reports.report(usage_reports.make_filter(
            YESTERDAY.isoformat(), YESTERDAY.isoformat(), None))
        assert one_day.totals.requests == 1 and len(one_day.days) == 1


def test_usage_page_shows_totals_chart_and_tops(ledger):
    _, client = ledger
    html = client.get("/admin/usage/").get_data(as_text=True)
    assert "1,675" in html and "alice@example.com" in html and "mock/echo" in html
    assert '<svg viewBox="0 0 720 220"' in html and 'class="bar"' in html
    assert f'data-day="{TODAY.isoformat()}" data-tokens="1665"' in html
    assert "style=" not in html  # the CSP allows no inline styles
    bad = client.get("/admin/usage/?start=2020-13-01")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    assert client.get("/admin/usage/?source=fax").status_code == 400


def test_csv_export_per_group(ledger):
    _, client = ledger
    response = client.get("/admin/usage/usage.csv?group=user")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["user", "requests", "input_tokens", "output_tokens", "cost", "errors",
                       "avg_latency_ms", "cache_read_tokens", "cache_write_tokens"]
    assert rows[1][:4] == ["admin@example.com", "1", "1000", "500"]
    days = list(csv.reader(io.StringIO(
        client.get("/admin/usage/usage.csv?group=day&source=api").get_data(as_text=True))))
    assert [r[0] for r in days[1:]] == [YESTERDAY.isoformat(), TODAY.isoformat()]
    assert client.get("/admin/usage/usage.csv?group=nope").status_code == 400


def test_csv_cells_that_look_like_formulas_are_defused(app):
    with app.app_context():
        db.session.add(UsageRecord(model="=HYPERLINK(1)", status="complete", source="web",
                                   user_id=None, created_at=NOW))
        db.session.commit()
        flt = usage_reports.make_filter(None, None, None)
        text = "".join(usage_reports.csv_lines(flt, "model"))
    assert "'=HYPERLINK(1)" in text


def test_deleted_user_usage_stays_in_the_totals(ledger):
    app, client = ledger
    with app.app_context():
        alice = db.session.scalars(select(User).where(User.email == "alice@example.com")).one()
        db.session.delete(alice)
        db.session.commit()
    html = client.get("/admin/usage/").get_data(as_text=True)
    assert "1,675" in html and "(deleted user)" in html


def test_every_usage_report_rounds_cost_to_a_millionth_with_one_line_builder():
    from types import SimpleNamespace

    from app.services import own_usage
    row = SimpleNamespace(requests=2, input_tokens=1, output_tokens=1, cost=0.1 + 0.2, errors=0,
                          avg_latency_ms=10)  # a float sum, as a database may hand it back
    assert usage_reports.line("x", row).cost == Decimal("0.300000")
    assert own_usage.line is usage_reports.line  # the user's own report builds the same lines


def test_cache_tokens_are_summed_in_reports_csv_and_a_rebuilt_rollup(app, client, make_user):
    from app.repositories import usage as usage_repo

    with app.app_context():
        db.session.add_all([
            UsageRecord(model="anthropic/claude", input_tokens=1000, output_tokens=10,
                        cache_read_tokens=600, cache_write_tokens=300, cost=Decimal("0.01"),
                        status="complete", source="api", created_at=NOW),
            UsageRecord(model="anthropic/claude", input_tokens=500, output_tokens=5,
                        cache_read_tokens=400, status="complete", source="api",
                        created_at=NOW)])
        db.session.commit()
        flt = usage_reports.make_filter(None, None, None)
        totals = usage_reports.totals(flt)
        assert (totals.cache_read_tokens, totals.cache_write_tokens) == (1000, 300)
        usage_repo.rebuild_daily()
        assert usage_reports.totals(flt).cache_read_tokens == 1000
        rows = list(csv.reader(io.StringIO("".join(usage_reports.csv_lines(flt, "model")))))
    assert rows[1][0] == "anthropic/claude" and rows[1][-2:] == ["1000", "300"]
    make_user("boss@example.com", role="admin")
    log_in(client, "boss@example.com")
    html = client.get("/admin/usage/").get_data(as_text=True)
    assert "<th>Cache read</th><th>Cache write</th>" in html and "1,000" in html
