"""Case 16: injection-shaped sort, filter and search values are refused or taken literally."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from app.repositories import accounts as accounts_repo
from app.services import keys
from tests.conftest import log_in

VALUES = ["name;DROP TABLE users", "' OR 1=1--", "\x00", "%", "*", '"', "NEAR(", "a OR b"]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_case16_injection_shaped_parameters_never_break_a_page(app, client, make_user, value):
    make_user("boss@example.com", role="admin")
    with app.app_context():
        _, secret = keys.create_key(accounts_repo.user_by_email("boss@example.com"))
    log_in(client, "boss@example.com")
    api = {"Authorization": f"Bearer {secret}"}
    responses = [
        client.get("/search", query_string={"q": value}),
        client.get("/admin/users/", query_string={"q": value}),
        client.get("/admin/audit/", query_string={"action": value, "actor": value}),
        client.get("/api/v1/conversations", query_string={"q": value}, headers=api),
        client.get("/api/v1/conversations", query_string={"order_by": value}, headers=api),
        client.get("/api/v1/admin/users", query_string={"q": value}, headers=api),
    ]
    for response in responses:
        assert response.status_code < 500, (response.request.path, response.status_code)
        assert "sqlite" not in response.get_data(as_text=True).lower()
    assert responses[4].status_code == 400  # an unknown order_by is refused, not run
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
