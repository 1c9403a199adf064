"""Own API keys and own usage over /api/v1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import UsageRecord
from app.repositories import accounts as accounts_repo
from tests.api_rest.conftest import bearer
from tests.api_rest.test_auth_and_errors import assert_error


def test_created_key_secret_is_shown_once_and_works(client, alice):
    response = client.post("/api/v1/keys", json={"name": "laptop", "expires_in_days": 30},
                           headers=alice)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    created = response.get_json()["data"]
    assert created["secret"].startswith(created["prefix"]) and created["status"] == "active"
    assert created["expires_at"] is not None
    listed = client.get("/api/v1/keys", headers=alice).get_json()["data"]
    assert created["prefix"] in [k["prefix"] for k in listed]
    text = client.get("/api/v1/keys", headers=alice).get_data(as_text=True)
    assert created["secret"] not in text and "key_hash" not in text
    assert client.get("/api/v1/me", headers=bearer(created["secret"])).status_code == 200


def test_case7_scopes_beyond_the_role_get_403_and_no_key(client, alice):
    before = len(client.get("/api/v1/keys", headers=alice).get_json()["data"])
    assert_error(client.post("/api/v1/keys", json={"scopes": ["api", "admin"]}, headers=alice),
                 403, "permission")
    assert_error(client.post("/api/v1/keys", json={"scopes": ["root"]}, headers=alice), 400,
                 "invalid_request")
    assert len(client.get("/api/v1/keys", headers=alice).get_json()["data"]) == before


def test_a_key_scoped_without_chat_cannot_reach_conversations(client, alice):
    narrowed = client.post("/api/v1/keys", json={"scopes": ["api"]}, headers=alice)
    headers = bearer(narrowed.get_json()["data"]["secret"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert_error(client.get("/api/v1/conversations", headers=headers), 403, "permission")
    assert_error(client.post("/api/v1/keys", json={}, headers=headers), 403, "permission")


def test_a_scoped_key_cannot_mint_a_wider_key(client, alice):
    narrowed = client.post("/api/v1/keys", json={"scopes": ["api", "own_keys"]}, headers=alice)
    headers = bearer(narrowed.get_json()["data"]["secret"])
    # no scopes asked for: the new key gets the calling key's, not the whole role's
    unscoped = client.post("/api/v1/keys", json={}, headers=headers)
    assert unscoped.status_code == 201
    assert sorted(unscoped.get_json()["data"]["scopes"]) == ["api", "own_keys"]
    assert_error(client.post("/api/v1/keys", json={"scopes": ["api", "chat"]}, headers=headers),
                 403, "permission")
    minted = bearer(unscoped.get_json()["data"]["secret"])
    assert_error(client.get("/api/v1/conversations", headers=minted), 403, "permission")


def test_revoke_by_prefix_or_id_and_the_key_stops_working(client, alice):
    first = client.post("/api/v1/keys", json={}, headers=alice).get_json()["data"]
    second = client.post("/api/v1/keys", json={}, headers=alice).get_json()["data"]
    assert client.delete(f"/api/v1/keys/{first['prefix']}", headers=alice).status_code == 204
    assert client.delete(f"/api/v1/keys/{second['id']}", headers=alice).status_code == 204
    for key in (first, second):
        assert_error(client.get("/api/v1/me", headers=bearer(key["secret"])), 401,
                     "authentication")
    statuses = {k["prefix"]: k["status"]
                for k in client.get("/api/v1/keys", headers=alice).get_json()["data"]}
    assert statuses[first["prefix"]] == statuses[second["prefix"]] == "revoked"


def test_another_users_key_is_404_and_stays_live(client, alice, bob):
    bobs = client.post("/api/v1/keys", json={}, headers=bob).get_json()["data"]
    for ref in (bobs["prefix"], str(bobs["id"])):
        assert_error(client.delete(f"/api/v1/keys/{ref}", headers=alice), 404, "not_found")
    listed = [k["prefix"] for k in client.get("/api/v1/keys", headers=alice).get_json()["data"]]
    assert bobs["prefix"] not in listed
    assert client.get("/api/v1/me", headers=bearer(bobs["secret"])).status_code == 200


def add_usage(app, email: str, model: str, tokens: tuple[int, int], when: datetime,
              status: str = "complete") -> None:
    with app.app_context():
        user = accounts_repo.user_by_email(email)
        db.session.add(UsageRecord(user_id=user.id, model=model, input_tokens=tokens[0],
                                   output_tokens=tokens[1], cost=0.5, latency_ms=100,
                                   status=status, source="api", created_at=when))
        db.session.commit()


def test_usage_sums_only_the_callers_own_calls(app, client, alice, bob):
    today = datetime.now(UTC).replace(hour=12)
    add_usage(app, "alice@example.com", "mock/echo", (10, 5), today)
    add_usage(app, "alice@example.com", "openai/fake-chat", (1, 1), today - timedelta(days=1),
              status="error")
    add_usage(app, "bob@example.com", "mock/echo", (1000, 1000), today)
    usage = client.get("/api/v1/usage", headers=alice).get_json()["data"]
    totals = usage["totals"]
    assert (totals["requests"], totals["input_tokens"], totals["output_tokens"],
            totals["errors"], totals["cost"]) == (2, 11, 6, 1, 1.0)
    assert len(usage["days"]) == 30 and usage["days"][-1]["tokens"] == 15
    assert {m["label"]: m["tokens"] for m in usage["models"]} == \
        {"mock/echo": 15, "openai/fake-chat": 2}
    yesterday = (today - timedelta(days=1)).date().isoformat()
    one_day = client.get(f"/api/v1/usage?start={yesterday}&end={yesterday}",
                         headers=alice).get_json()["data"]
    assert one_day["totals"]["requests"] == 1


def test_usage_rejects_bad_ranges(client, alice):
    assert_error(client.get("/api/v1/usage?start=2024-02-10&end=2024-02-01", headers=alice),
                 400, "invalid_request")
    assert_error(client.get("/api/v1/usage?start=yesterday", headers=alice), 400,
                 "invalid_request")
    assert_error(client.get("/api/v1/usage?end=2024-02-31", headers=alice), 400,
                 "invalid_request")
