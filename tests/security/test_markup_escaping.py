"""Case 3: admin-authored and profile fields holding markup are escaped on every page."""

from __future__ import annotations

from app.extensions import db
from app.models import Conversation, Role
from app.repositories import accounts as accounts_repo
from tests.conftest import log_in

PAYLOAD = '<img src=x onerror=alert(1)>'


def test_case3_names_and_titles_with_markup_render_escaped(app, client, make_user):
    make_user("boss@example.com", role="admin", display_name=PAYLOAD)
    with app.app_context():
        boss = accounts_repo.user_by_email("boss@example.com")
        db.session.add(Role(name="r" + PAYLOAD, description=PAYLOAD, permissions=["chat"]))
        db.session.add(Conversation(user_id=boss.id, model="mock/echo", title=PAYLOAD))
        db.session.commit()
    log_in(client, "boss@example.com")
    for path in ("/", "/settings/", "/admin/", "/admin/users/", "/admin/roles/",
                 "/admin/audit/"):
        html = client.get(path).get_data(as_text=True)
        assert "<img src=x" not in html, path
    shown = client.get("/").get_data(as_text=True) + client.get("/admin/users/").get_data(
        as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown  # there, as text
