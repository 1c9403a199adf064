"""Every /api/v1/admin route needs the admin permission: JSON 401 for anonymous callers (never
a redirect to the login page), 403 for members and for admin keys not scoped for it.
(tests/admin/test_access.py pins the same for every /admin HTML route.)"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.api_admin.conftest import ADMIN_EMAIL, API
from tests.conftest import csrf_token, log_in


def admin_api_requests(app):
    """(method, url) of every /api/v1/admin rule, with sample values for its variables."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        values = {name: 1 if isinstance(converter, IntegerConverter) else "x"
                  for name, converter in rule._converters.items()}
        url = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


@pytest.mark.parametrize("who", ["anonymous", "member", "admin key scoped to chat"])
def test_every_admin_api_route_refuses_anonymous_members_and_narrow_keys(app, client, make_key,
                                                                          who):
    headers = {"anonymous": {}, "member": make_key("member@example.com"),
               "admin key scoped to chat": make_key(ADMIN_EMAIL, role="admin",
                                                    scopes=["api", "chat"])}[who]
    requests = list(admin_api_requests(app))
    assert len(requests) >= 28, requests  # every resource is there
    for method, url in requests:
        response = client.open(url, method=method, headers=headers, json={})
        expected = 401 if who == "anonymous" else 403
        assert response.status_code == expected, (method, url, response.status_code)
        assert response.is_json, (method, url)
        assert response.get_json()["error"]["code"] in ("authentication", "permission")
        assert "Location" not in response.headers


def test_signed_in_admin_session_needs_the_csrf_header_to_change_things(app, client, make_key):
    make_key(ADMIN_EMAIL, role="admin")
    log_in(client, ADMIN_EMAIL)
    assert client.get(API + "/users").status_code == 200
    body = {"email": "new@example.com", "password": "a long password"}
    refused = client.post(API + "/users", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    token = csrf_token(client.get("/settings/").get_data(as_text=True))
    assert client.post(API + "/users", json=body, headers={"X-CSRFToken": token}).status_code \
        == 201
