"""Roles screen: custom roles, permissions, limits, and which models a role may use."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.services import roles
from app.services.vendors import vendor_manager
from app.vendors import Catalog, Credential, Route, UnknownModelError
from tests.admin.conftest import post_form
from tests.conftest import log_in

MOCK_ONLY = {"name": "mock-only", "description": "Just the echo model",
             "permissions": ["chat", "api"], "restrict_models": "y", "models": ["mock/echo"],
             "rate_limit": "30/minute", "monthly_token_budget": "100000"}


def _picker(html: str) -> list[str]:
    select_html = re.search(r'<select[^>]*id="model".*?</select>', html, re.S).group(0)
    return re.findall(r'<option[^>]*value="([^"]+)"', select_html)


def test_role_restricted_to_mock_echo_sees_only_that_model(app, admin_client, make_user):
    member_id = make_user("member@example.com")
    member = app.test_client()
    log_in(member, "member@example.com")
    assert _picker(member.get("/").get_data(as_text=True)) == ["mock/echo", "mock/lorem"]

    assert post_form(admin_client, "/admin/roles/", "/admin/roles/", MOCK_ONLY).status_code == 302
    post_form(admin_client, f"/admin/users/{member_id}", f"/admin/users/{member_id}/role",
              {"role": "mock-only"})

    assert _picker(member.get("/").get_data(as_text=True)) == ["mock/echo"]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      member.get("/").get_data(as_text=True)).group(1)
    refused = member.post("/c", data={"csrf_token": token, "model": "mock/lorem",
                                      "message": "hi"})
    assert refused.status_code == 400
    allowed = member.post("/c", data={"csrf_token": token, "model": "mock/echo",
                                      "message": "hi"})
    assert allowed.status_code == 302


def test_role_form_shows_validation_messages_inline(admin_client):
    bad = {**MOCK_ONLY, "name": "Bad Name!", "rate_limit": "lots"}
    response = post_form(admin_client, "/admin/roles/", "/admin/roles/", bad)
    assert response.status_code == 400
    assert "lower-case letters" in response.get_data(as_text=True)
    response = post_form(admin_client, "/admin/roles/", "/admin/roles/",
                         {**MOCK_ONLY, "rate_limit": "lots"})
    assert "Write a rate limit like 60/minute" in response.get_data(as_text=True)
    response = post_form(admin_client, "/admin/roles/", "/admin/roles/",
                         {**MOCK_ONLY, "other_models": "ok/name bad<name>"})
    assert "Not a model name: bad&lt;name&gt;" in response.get_data(as_text=True)
    response = post_form(admin_client, "/admin/roles/", "/admin/roles/",
                         {**MOCK_ONLY, "name": "member"})
    assert "already exists" in response.get_data(as_text=True)


def test_builtin_roles_keep_their_name_admin_its_permission_and_cannot_go(app, admin_client):
    with app.app_context():
        admin_id = db.session.scalar(select(Role.id).where(Role.name == "admin"))
        member_id = db.session.scalar(select(Role.id).where(Role.name == "member"))
    response = post_form(admin_client, f"/admin/roles/{admin_id}", f"/admin/roles/{admin_id}",
                         {"name": "admin", "permissions": ["chat"]})
    assert response.status_code == 400
    assert "keeps the admin permission" in response.get_data(as_text=True)
    response = post_form(admin_client, f"/admin/roles/{member_id}", f"/admin/roles/{member_id}",
                         {"name": "members", "permissions": ["chat"]})
    assert "keep their name" in response.get_data(as_text=True)
    response = post_form(admin_client, f"/admin/roles/{member_id}",
                         f"/admin/roles/{member_id}/delete", follow_redirects=True)
    assert "Built-in roles cannot be deleted." in response.get_data(as_text=True)


def test_custom_role_is_edited_and_deleted_when_unused(app, admin_client, make_user):
    post_form(admin_client, "/admin/roles/", "/admin/roles/", MOCK_ONLY)
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "mock-only"))
        role_id = role.id
        assert role.allowed_models == ["mock/echo"] and role.rate_limit == "30/minute"
        assert role.monthly_token_budget == 100000 and role.permissions == ["chat", "api"]
    edited = {**MOCK_ONLY, "restrict_models": "", "rate_limit": "1000 per day"}
    post_form(admin_client, f"/admin/roles/{role_id}", f"/admin/roles/{role_id}", edited)
    with app.app_context():
        role = db.session.get(Role, role_id)
        assert role.allowed_models is None and role.rate_limit == "1000 per day"
    user_id = make_user("someone@example.com", role="mock-only")
    response = post_form(admin_client, f"/admin/roles/{role_id}",
                         f"/admin/roles/{role_id}/delete", follow_redirects=True)
    assert "still have the role" in response.get_data(as_text=True)
    with app.app_context():
        db.session.delete(db.session.get(User, user_id))
        db.session.commit()
    post_form(admin_client, f"/admin/roles/{role_id}", f"/admin/roles/{role_id}/delete")
    with app.app_context():
        assert db.session.get(Role, role_id) is None


def test_catalog_applies_role_model_lists_to_routes_aliases_and_vendor_wildcards():
    mock = Credential(name="mock", kind="mock")
    other = Credential(name="other", kind="mock")
    catalog = Catalog(
        credentials={"mock": mock, "other": other},
        routes=(Route("fast", mock, "echo", fallback_group="g"),
                Route("spare", other, "echo", fallback_group="g", priority=5)),
        role_models={"narrow": frozenset({"fast"}), "vendor": frozenset({"other/*"})},
    )
    assert [r.label for r in catalog.routes_for("fast", "narrow")] == ["mock/echo"]
    assert [r.label for r in catalog.routes_for("fast", "member")] == ["mock/echo", "other/echo"]
    assert [m.id for m in catalog.explicit_models("narrow")] == ["fast"]
    assert catalog.routes_for("other/anything", "vendor")[0].upstream_model == "anything"
    for name, role in [("mock/echo", "narrow"), ("spare", "narrow"), ("mock/echo", "vendor")]:
        try:
            catalog.routes_for(name, role)
        except UnknownModelError:
            continue
        raise AssertionError(f"{role} may not use {name}")


def test_role_change_refreshes_the_catalog_at_once(app):
    with app.app_context():
        assert [m.id for m in vendor_manager().models("member")] == ["mock/echo", "mock/lorem"]
        member = db.session.scalar(select(Role).where(Role.name == "member"))
        roles.update(roles_actor(), member, roles.RoleSpec(
            name="member", permissions=["chat"], allowed_models=["mock/lorem"]))
        assert [m.id for m in vendor_manager().models("member")] == ["mock/lorem"]


def roles_actor():
    from app.services.actor import SYSTEM
    return SYSTEM
