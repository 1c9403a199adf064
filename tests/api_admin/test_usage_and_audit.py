"""Usage reports and the audit trail through the admin API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.extensions import db
from app.models import UsageRecord
from app.repositories import accounts as accounts_repo
from tests.api_admin.conftest import ADMIN_EMAIL, audit_trail, user_id

DAY = date(2026, 3, 10)


def add_usage(app, rows: list[dict]) -> None:
    with app.app_context():
        for row in rows:
            db.session.add(UsageRecord(**{"route": "", "latency_ms": 100, "status": "complete",
                                          **row}))
        db.session.commit()


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_usage_totals_and_breakdowns_match_the_rows(app, api, make_key):
    make_key("gus@example.com")
    gus, root = user_id(app, "gus@example.com"), user_id(app, ADMIN_EMAIL)
    with app.app_context():
        gus_key = accounts_repo.keys_of_user(gus)[0]
        key_label = gus_key.prefix + " (test)"
        gus_key_id = gus_key.id
    next_day = DAY + timedelta(days=1)
    add_usage(app, [
        {"user_id": gus, "api_key_id": gus_key_id, "model": "openai/a", "input_tokens": 100,
         "output_tokens": 10, "cost": Decimal("0.5"), "source": "api", "created_at": at(DAY)},
        {"user_id": gus, "model": "openai/b", "input_tokens": 200, "output_tokens": 20,
         "cost": Decimal("0.25"), "source": "web", "created_at": at(DAY, 23),
         "status": "error"},
        {"user_id": root, "model": "openai/a", "input_tokens": 1000, "output_tokens": 1,
         "cost": Decimal("1"), "source": "api", "created_at": at(next_day, 0)},
        {"user_id": root, "model": "openai/a", "input_tokens": 5, "output_tokens": 5,
         "cost": Decimal("9"), "source": "api", "created_at": at(DAY - timedelta(days=1))},
    ])
    window = f"start={DAY}&end={next_day}"

    by_day = api("get", f"/usage?{window}").get_json()["data"]
    assert by_day["group"] == "day" and by_day["start"] == str(DAY)
    assert by_day["totals"] == {"label": "Total", "requests": 3, "input_tokens": 1300,
                                "output_tokens": 31, "cache_read_tokens": 0,
                                "cache_write_tokens": 0, "tokens": 1331, "cost": 1.75,
                                "errors": 1, "avg_latency_ms": 100}
    assert [(d["label"], d["requests"], d["tokens"]) for d in by_day["lines"]] == [
        (str(DAY), 2, 330), (str(next_day), 1, 1001)]

    def lines(group: str, extra: str = "") -> list[tuple[str, int, float]]:
        data = api("get", f"/usage?{window}&group={group}{extra}").get_json()["data"]
        return [(line["label"], line["tokens"], line["cost"]) for line in data["lines"]]

    assert lines("user") == [(ADMIN_EMAIL, 1001, 1.0), ("gus@example.com", 330, 0.75)]
    assert lines("model") == [("openai/a", 1111, 1.5), ("openai/b", 220, 0.25)]
    assert lines("source") == [("api", 1111, 1.5), ("web", 220, 0.25)]
    assert lines("key") == [("(web, no key)", 1221, 1.25), (key_label, 110, 0.5)]
    assert lines("model", "&source=web") == [("openai/b", 220, 0.25)]


def test_bad_usage_queries_are_400s(api):
    for query in ("group=week", "start=2026-02-30", "start=2026-03-10&end=2026-03-01",
                  "source=cli", "start=2020-01-01&end=2026-01-01"):
        response = api("get", f"/usage?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["message"], query


def test_audit_trail_is_filtered_and_paged(app, api):
    for name in ("ann", "ben", "cat"):
        api("post", "/users", json={"email": f"{name}@example.com",
                                    "password": "a long password"})
    api("post", "/roles", json={"name": "ops"})
    everything = api("get", "/audit").get_json()
    assert [e["action"] for e in everything["data"]] == [
        "role.created", "user.created", "user.created", "user.created"]  # newest first
    event = everything["data"][-1]
    assert event["target"] == "user:ann@example.com" and event["actor"] == ADMIN_EMAIL
    assert event["actor_id"] == user_id(app, ADMIN_EMAIL) and event["ip"] == "127.0.0.1"
    assert event["detail"] == {"role": "member"}

    users = api("get", "/audit?action=user.&per_page=2").get_json()
    assert [e["target"] for e in users["data"]] == ["user:cat@example.com",
                                                    "user:ben@example.com"]
    assert users["meta"] == {"page": 1, "per_page": 2, "total": 3, "has_more": True}
    assert len(api("get", "/audit?action=user.&per_page=2&page=2").get_json()["data"]) == 1
    assert api("get", "/audit?actor=ROOT@").get_json()["meta"]["total"] == 4
    assert api("get", "/audit?actor=nobody").get_json()["data"] == []
    today = datetime.now(UTC).date()
    assert api("get", f"/audit?start={today}&end={today}").get_json()["meta"]["total"] == 4
    assert api("get", f"/audit?end={today - timedelta(days=1)}").get_json()["data"] == []
    assert api("get", "/audit?start=yesterday").status_code == 400
    assert api("get", f"/audit?start={today}&end={today - timedelta(days=1)}"
               ).status_code == 400
    assert "a long password" not in str(audit_trail(app))
