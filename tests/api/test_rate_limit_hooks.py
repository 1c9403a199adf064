"""Which requests the JSON APIs count against a rate limit: every /v1 and /api/v1 blueprint opts
in, after its own access hooks, so only callers let through are counted."""

from __future__ import annotations

import pytest

from app.api import auth, rest_auth
from tests.conftest import bearer, log_in

LIMIT_HOOKS = (auth.count_request, rest_auth.count_request)


@pytest.fixture
def app(make_app):
    return make_app(PARLOR_RATE_LIMIT="2/minute")


def test_every_json_api_blueprint_counts_requests_after_its_own_hooks(app):
    api_blueprints = {rule.endpoint.rpartition(".")[0] for rule in app.url_map.iter_rules()
                      if rule.rule.startswith(("/v1/", "/api/v1/"))}
    assert {"openai_compat", "rest_me", "rest_admin_users"} <= api_blueprints
    for name in sorted(api_blueprints):
        hooks = app.before_request_funcs.get(name, [])
        assert hooks and hooks[-1] in LIMIT_HOOKS, f"{name} is not rate limited"
        assert sum(hook in LIMIT_HOOKS for hook in hooks) == 1, f"{name} counts twice"


def test_signed_in_browser_on_api_v1_is_limited_per_user(app, make_key):
    make_key("alice@example.com")
    client = app.test_client()
    log_in(client, "alice@example.com")  # the login page and form are not API requests
    for _ in range(2):
        assert client.get("/api/v1/me").status_code == 200

    refused = client.get("/api/v1/me")

    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"]["code"] == "rate_limit"


def test_requests_refused_for_a_permission_are_not_counted(app, make_key):
    client, key = app.test_client(), bearer(make_key(scopes=["api"]))  # no "chat", no "admin"
    for path in ("/api/v1/conversations", "/api/v1/admin/users", "/api/v1/conversations"):
        assert client.get(path, headers=key).status_code == 403

    assert client.get("/api/v1/me", headers=key).status_code == 200
    assert client.get("/api/v1/me", headers=key).status_code == 200
    assert client.get("/api/v1/me", headers=key).status_code == 429
