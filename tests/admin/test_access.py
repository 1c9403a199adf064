"""Every /admin route is behind the admin role: no screen can be added unprotected."""

from __future__ import annotations

import pytest
from werkzeug.routing import FloatConverter, IntegerConverter

from tests.conftest import csrf_token, log_in


def _admin_requests(app):
    """(method, url) of every /admin rule, with sample values for its variables."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        values = {name: 1 if isinstance(converter, (IntegerConverter, FloatConverter)) else "x"
                  for name, converter in rule._converters.items()}
        url = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_every_admin_route_refuses_anonymous_and_members(app, client, make_user, who):
    if who == "member":
        make_user("member@example.com")
        log_in(client, "member@example.com")
        token = csrf_token(client.get("/").get_data(as_text=True))
    else:
        token = csrf_token(client.get("/login").get_data(as_text=True))
    requests = list(_admin_requests(app))
    assert len(requests) >= 20, requests  # the screens are all there
    for method, url in requests:
        response = client.open(url, method=method, data={"csrf_token": token})
        if who == "anonymous":
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/login"), (method, url)
        else:
            assert response.status_code == 403, (method, url, response.status_code)


def test_admin_sees_the_dashboard_with_links_to_every_screen(admin_client):
    html = admin_client.get("/admin/").get_data(as_text=True)
    for path in ("/admin/users/", "/admin/roles/", "/admin/keys/", "/admin/vendors/",
                 "/admin/models/", "/admin/usage/", "/admin/audit/"):
        assert f'href="{path}"' in html
        assert admin_client.get(path).status_code == 200, path
