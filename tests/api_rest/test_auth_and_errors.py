"""Who may call /api/v1, and the one error shape every failure comes in."""

from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import db
from app.models import ApiKey
from app.services import keys
from tests.api_rest.conftest import MAX_REQUEST_BYTES, bearer


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_api_key_reads_me_in_the_data_envelope(client, alice):
    response = client.get("/api/v1/me", headers=alice)
    assert response.status_code == 200
    me = response.get_json()["data"]
    assert me["email"] == "alice@example.com" and me["role"] == "member"
    assert "password_hash" not in me and "session_version" not in me


def test_no_credentials_get_a_json_401_not_a_redirect(client):
    assert_error(client.get("/api/v1/me"), 401, "authentication")
    assert_error(client.post("/api/v1/conversations", json={"model": "mock/echo"}), 401,
                 "authentication")


def test_key_in_the_query_string_is_refused_even_when_valid(client, make_key):
    key = make_key()
    assert_error(client.get(f"/api/v1/me?api_key={key}"), 401, "authentication")


def test_revoked_expired_and_wrong_keys_get_401(app, client, make_key):
    revoked, expired = make_key(), make_key()
    with app.app_context():
        keys.revoke_key("-".join(revoked.split("-")[:2]))
        row = db.session.query(ApiKey).filter_by(prefix="-".join(expired.split("-")[:2])).one()
        row.expires_at = datetime(2000, 1, 1, tzinfo=UTC)
        db.session.commit()
    for key in (revoked, expired, "pk-00000000-nope"):
        assert_error(client.get("/api/v1/me", headers=bearer(key)), 401, "authentication")


def test_a_wrong_key_is_401_even_with_a_signed_in_session(session_client):
    client, _token = session_client
    assert_error(client.get("/api/v1/me", headers=bearer("pk-00000000-nope")), 401,
                 "authentication")


def test_session_reads_without_a_csrf_token(session_client):
    client, _token = session_client
    assert client.get("/api/v1/me").get_json()["data"]["email"] == "alice@example.com"


def test_session_writes_need_the_csrf_header(session_client):
    client, token = session_client
    refused = client.patch("/api/v1/me", json={"display_name": "Mallory"})
    assert_error(refused, 400, "csrf_failed")
    assert client.get("/api/v1/me").get_json()["data"]["display_name"] == "alice"
    accepted = client.patch("/api/v1/me", json={"display_name": "Alice A."},
                            headers={"X-CSRFToken": token})
    assert accepted.status_code == 200
    assert accepted.get_json()["data"]["display_name"] == "Alice A."


def test_key_writes_need_no_csrf_token(client, alice):
    response = client.patch("/api/v1/me", json={"display_name": "Alice K."}, headers=alice)
    assert response.status_code == 200


def test_case6_mass_assignment_on_me_is_refused_and_changes_nothing(client, alice):
    for field, value in (("role", "admin"), ("is_enabled", False), ("email", "x@example.com"),
                         ("id", 99)):
        error = assert_error(client.patch("/api/v1/me", json={"display_name": "New",
                                                               field: value}, headers=alice),
                             400, "invalid_request")
        assert error["details"][0]["field"] == field
    me = client.get("/api/v1/me", headers=alice).get_json()["data"]
    assert (me["role"], me["display_name"], me["email"]) == ("member", "alice",
                                                             "alice@example.com")


def test_malformed_json_and_wrong_types_get_400_naming_the_field(client, alice):
    assert_error(client.post("/api/v1/conversations", data="{nope", headers=alice,
                             content_type="application/json"), 400, "invalid_request")
    assert_error(client.post("/api/v1/conversations", json=[1], headers=alice), 400,
                 "invalid_request")
    error = assert_error(client.post("/api/v1/conversations", json={"model": 7}, headers=alice),
                         400, "invalid_request")
    assert error["details"][0]["field"] == "model"
    missing = assert_error(client.post("/api/v1/conversations", json={}, headers=alice), 400,
                           "invalid_request")
    assert missing["details"][0]["field"] == "model"


def test_body_over_the_limit_gets_413_in_the_error_shape(client, alice):
    body = {"model": "mock/echo", "system_prompt": "x" * (MAX_REQUEST_BYTES + 1)}
    assert_error(client.post("/api/v1/conversations", json=body, headers=alice), 413,
                 "request_too_large")


def test_unrouted_paths_and_methods_answer_in_the_error_shape(client, alice):
    assert_error(client.get("/api/v1/nothing-here", headers=alice), 404, "not_found")
    assert_error(client.delete("/api/v1/me", headers=alice), 405, "invalid_request")


def test_unknown_query_parameters_are_tolerated_and_bad_ones_named(client, alice):
    ok = client.get("/api/v1/conversations?utm_source=x&page=1", headers=alice)
    assert ok.status_code == 200
    error = assert_error(client.get("/api/v1/conversations?order_by=password", headers=alice),
                         400, "invalid_request")
    assert error["details"][0]["field"] == "order_by"
    assert_error(client.get("/api/v1/conversations?per_page=lots", headers=alice), 400,
                 "invalid_request")


def test_admin_only_routes_refuse_members_and_anonymous_callers(make_app, fake_vendor):
    from app.api import rest

    bp = rest.admin_blueprint("rest_admin_probe", __name__)
    bp.get("/probe")(lambda: rest.data({"ok": True}))
    built = make_app()
    built.register_blueprint(bp)
    client = built.test_client()

    def key(email, role):
        with built.app_context():
            from app.services import accounts

            user = accounts.create_user(email, "correct horse battery", role=role)
            return bearer(keys.create_key(user)[1])

    member, admin = key("m@example.com", "member"), key("a@example.com", "admin")
    with built.app_context():
        from app.repositories import accounts as accounts_repo

        owner = accounts_repo.user_by_email("a@example.com")
        narrowed = bearer(keys.create_key(owner, scopes=["api", "chat"])[1])
    assert_error(client.get("/api/v1/admin/probe"), 401, "authentication")
    assert_error(client.get("/api/v1/admin/probe", headers=narrowed), 403, "permission")
    assert_error(client.get("/api/v1/admin/probe", headers=member), 403, "permission")
    assert client.get("/api/v1/admin/probe", headers=admin).get_json() == {"data": {"ok": True}}
