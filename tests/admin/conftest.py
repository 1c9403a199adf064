"""Fixtures of the admin tests: a signed-in admin and a form poster that carries CSRF tokens."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, log_in

ADMIN_EMAIL = "admin@example.com"


@pytest.fixture
def admin_client(client, make_user):
    make_user(ADMIN_EMAIL, role="admin")
    log_in(client, ADMIN_EMAIL)
    return client


def post_form(client, page_url: str, action_url: str, data: dict | None = None, **kwargs):
    """POST ``data`` to ``action_url`` with the CSRF token of ``page_url``, as a browser would."""
    token = csrf_token(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **(data or {})}, **kwargs)
