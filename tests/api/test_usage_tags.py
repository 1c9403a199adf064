"""Spend by tag: ``x-parlor-tags`` (as Claude Code sends it through ANTHROPIC_CUSTOM_HEADERS)
and ``metadata.tags`` on /v1, through the real SDKs; stored with the usage row, summed per tag,
filtered and grouped by tag in the admin API and CSV; never forwarded to the vendor."""

from __future__ import annotations

import anthropic
import openai
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import UsageRecord
from tests.conftest import PASSWORD, bearer, log_in

ADMIN = "root@example.com"
MESSAGES = [{"role": "user", "content": "hello there"}]


def ledger_tags(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(UsageRecord.tags).order_by(UsageRecord.id)))


def tag_lines(app, admin: dict, query: str = "") -> dict[str, tuple[int, int]]:
    response = app.test_client().get(f"/api/v1/admin/usage?group=tag{query}", headers=admin)
    assert response.status_code == 200, response.get_json()
    return {line["label"]: (line["requests"], line["tokens"])
            for line in response.get_json()["data"]["lines"]}


@pytest.fixture
def admin(make_key) -> dict:
    return bearer(make_key(ADMIN, role="admin"))


def test_header_tags_from_both_sdks_are_stored_and_summed_per_tag(app, openai_client,
                                                                   anthropic_client, admin):
    openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES,
                                          extra_headers={"x-parlor-tags": "team-a, agents"})
    anthropic_client.messages.create(model="anthropic/fake-chat", max_tokens=20,
                                     messages=MESSAGES,
                                     extra_headers={"x-parlor-tags": "team-a"})
    openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)

    assert ledger_tags(app) == ["team-a,agents", "team-a", ""]
    lines = tag_lines(app, admin)
    assert set(lines) == {"team-a", "agents"}
    assert lines["team-a"][0] == 2 and lines["agents"][0] == 1


def test_metadata_tags_are_merged_with_the_header_and_not_sent_to_the_vendor(
        app, openai_client, fake_vendor):
    openai_client.chat.completions.create(
        model="openai/fake-chat", messages=MESSAGES, extra_headers={"x-parlor-tags": "ci"},
        metadata={"tags": "nightly,ci", "run": "42"})
    openai_client.chat.completions.create(
        model="openai/fake-chat", messages=MESSAGES, extra_body={"metadata": {"tags": ["x"]}})

    assert ledger_tags(app) == ["ci,nightly", "x"]
    first, second = (r.body for r in fake_vendor.requests_for("fake-chat"))
    assert first["metadata"] == {"run": "42"}  # the caller's other metadata goes along
    assert "metadata" not in second


def test_streamed_call_carries_its_tags(app, openai_client):
    stream = openai_client.chat.completions.create(
        model="openai/fake-chat", messages=MESSAGES, stream=True,
        extra_headers={"x-parlor-tags": "streamed"})
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert ledger_tags(app) == ["streamed"]


@pytest.mark.parametrize("header", ["bad tag", "a;b", ",".join(f"t{i}" for i in range(11)),
                                    "x" * 65])
def test_malformed_tags_are_a_400_in_each_wire_shape(openai_client, anthropic_client, header,
                                                     fake_vendor):
    with pytest.raises(openai.BadRequestError, match="tag"):
        openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES,
                                              extra_headers={"x-parlor-tags": header})
    with pytest.raises(anthropic.BadRequestError, match="tag"):
        anthropic_client.messages.create(model="anthropic/fake-chat", max_tokens=20,
                                         messages=MESSAGES,
                                         extra_headers={"x-parlor-tags": header})
    assert fake_vendor.requests == []


def test_admin_usage_filters_by_tag_and_the_csv_carries_tags(app, openai_client, admin):
    openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES,
                                          extra_headers={"x-parlor-tags": "team-a"})
    openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES,
                                          extra_headers={"x-parlor-tags": "team-b"})
    openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)

    client = app.test_client()
    everything = client.get("/api/v1/admin/usage?group=model", headers=admin).get_json()
    only_a = client.get("/api/v1/admin/usage?group=model&tag=team-a",
                        headers=admin).get_json()["data"]
    assert everything["data"]["totals"]["requests"] == 3
    assert only_a["tag"] == "team-a" and only_a["totals"]["requests"] == 1
    assert [(line["label"], line["requests"]) for line in only_a["lines"]] == [
        ("openai/fake-chat", 1)]
    assert tag_lines(app, admin, "&tag=team-b").keys() == {"team-b"}

    log_in(client, ADMIN, PASSWORD)
    csv = client.get("/admin/usage/usage.csv?group=tag").get_data(as_text=True).splitlines()
    assert csv[0].startswith("tag,requests,")
    assert sorted(row.split(",")[:2] for row in csv[1:]) == [["team-a", "1"], ["team-b", "1"]]
    page = client.get("/admin/usage/?tag=team-a").get_data(as_text=True)
    assert "Top tags" in page and 'value="team-a"' in page


def test_own_usage_lists_my_tags_and_filters_by_one(app, openai_client, member_key, make_key):
    openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES,
                                          extra_headers={"x-parlor-tags": "team-a"})
    openai_client.chat.completions.create(model="openai/fake-chat", messages=MESSAGES)
    other = make_key("other@example.com")  # someone else's tagged call is not in my report
    with openai.OpenAI(base_url=str(openai_client.base_url), api_key=other,
                       max_retries=0) as theirs:
        theirs.chat.completions.create(model="openai/fake-chat", messages=MESSAGES,
                                       extra_headers={"x-parlor-tags": "team-a"})
    client = app.test_client()

    mine = client.get("/api/v1/usage", headers=bearer(member_key)).get_json()["data"]
    assert mine["totals"]["requests"] == 2 and mine["tag"] is None
    assert [(t["label"], t["requests"]) for t in mine["tags"]] == [("team-a", 1)]
    tagged = client.get("/api/v1/usage?tag=team-a", headers=bearer(member_key)).get_json()
    assert tagged["data"]["tag"] == "team-a" and tagged["data"]["totals"]["requests"] == 1
    assert [(m["label"], m["requests"]) for m in tagged["data"]["models"]] == [
        ("openai/fake-chat", 1)]
    assert client.get("/api/v1/usage?tag=" + "x" * 65,
                      headers=bearer(member_key)).status_code == 400


def test_rebuild_daily_recomputes_the_tag_rollup_from_bulk_loaded_rows(app, admin):
    from datetime import UTC, datetime

    from sqlalchemy import insert

    with app.app_context():  # past the ORM, as a bulk load would: no rollup is written
        db.session.execute(insert(UsageRecord.__table__), [
            {"model": "m", "route": "", "input_tokens": 10, "output_tokens": 0, "cost": 0,
             "latency_ms": 1, "status": "complete", "source": "api", "tags": tags,
             "created_at": datetime.now(UTC), "cache_read_tokens": 0,
             "cache_write_tokens": 0}
            for tags in ("bulk,x", "bulk", "")])
        db.session.commit()
    assert tag_lines(app, admin) == {}

    result = app.test_cli_runner().invoke(args=["usage", "rebuild-daily"])

    assert result.exit_code == 0, result.output
    assert tag_lines(app, admin) == {"bulk": (2, 20), "x": (1, 10)}
