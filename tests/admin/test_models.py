"""Models screen: routes from public names to vendor models, roles, prices, import."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, Role, VendorCredential
from app.services.vendors import vendor_manager
from tests.admin.conftest import post_form
from tests.admin.test_vendors import _add_fake_vendor
from tests.fakes.vendor_server import DEFAULT_MODELS


def _ids(app):
    with app.app_context():
        credential = db.session.scalar(select(VendorCredential.id))
        roles = {r.name: r.id for r in db.session.scalars(select(Role))}
    return credential, roles


def test_alias_route_with_roles_and_prices_serves_only_those_roles(app, admin_client,
                                                                   fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    credential_id, roles = _ids(app)
    response = post_form(admin_client, "/admin/models/", "/admin/models/", {
        "public_name": "fast", "credential_id": credential_id, "upstream_model": "fake-chat",
        "enabled": "y", "role_ids": [roles["admin"]], "input_price": "0.15",
        "output_price": "0.60", "fallback_group": "cheap", "priority": "1"})
    assert response.status_code == 302
    html = admin_client.get("/admin/models/").get_data(as_text=True)
    assert "fast" in html and "fake-chat" in html and "0.15" in html and "cheap" in html
    with app.app_context():
        manager = vendor_manager()
        assert "fast" in [m.id for m in manager.models("admin")]
        assert "fast" not in [m.id for m in manager.models("member")]
        route = manager.routes_for("fast", "admin")[0]
        assert route.upstream_model == "fake-chat" and str(route.input_price) == "0.1500"


def test_cache_prices_are_set_in_the_form_and_empty_means_the_input_price(
        app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    credential_id, _ = _ids(app)
    form = {"public_name": "cached", "credential_id": credential_id,
            "upstream_model": "fake-chat", "enabled": "y", "input_price": "3",
            "output_price": "15", "cache_read_price": "0.3", "cache_write_price": "3.75"}
    assert post_form(admin_client, "/admin/models/", "/admin/models/",
                     form).status_code == 302
    post_form(admin_client, "/admin/models/", "/admin/models/",
              {**form, "public_name": "uncached", "cache_read_price": "",
               "cache_write_price": ""})
    html = admin_client.get("/admin/models/").get_data(as_text=True)
    assert "Cache read price per million tokens" in html and "0.3000 / 3.7500" in html
    assert "in / in" in html  # the route without cache prices charges them as input
    with app.app_context():
        manager = vendor_manager()
        cached = manager.routes_for("cached", "admin")[0]
        assert (str(cached.cache_read_price), str(cached.cache_write_price)) == (
            "0.3000", "3.7500")
        uncached = manager.routes_for("uncached", "admin")[0]
        assert (uncached.cache_read_price, uncached.cache_write_price) == (None, None)
    refused = post_form(admin_client, "/admin/models/", "/admin/models/",
                        {**form, "public_name": "negative", "cache_write_price": "-1"})
    assert refused.status_code == 400
    assert "Number must be at least 0." in refused.get_data(as_text=True)


def test_route_form_shows_validation_messages_inline(app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    credential_id, _ = _ids(app)
    response = post_form(admin_client, "/admin/models/", "/admin/models/", {
        "public_name": "bad name!", "credential_id": credential_id, "upstream_model": "x",
        "input_price": "-1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Number must be at least 0." in html
    response = post_form(admin_client, "/admin/models/", "/admin/models/", {
        "public_name": "bad name!", "credential_id": credential_id, "upstream_model": "x"})
    assert "Use letters, digits" in response.get_data(as_text=True)


def test_import_adds_a_route_per_vendor_model_once(app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    credential_id, _ = _ids(app)
    for _ in range(2):
        post_form(admin_client, "/admin/models/", f"/admin/models/import/{credential_id}")
    with app.app_context():
        names = sorted(db.session.scalars(select(ModelRoute.public_name)))
    assert names == sorted(f"fake/{m}" for m in DEFAULT_MODELS)


def test_route_is_edited_and_deleted(app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    credential_id, _ = _ids(app)
    post_form(admin_client, "/admin/models/", "/admin/models/", {
        "public_name": "fast", "credential_id": credential_id, "upstream_model": "fake-chat",
        "enabled": "y"})
    with app.app_context():
        route_id = db.session.scalar(select(ModelRoute.id))
    post_form(admin_client, f"/admin/models/{route_id}", f"/admin/models/{route_id}", {
        "public_name": "quick", "credential_id": credential_id, "upstream_model": "fake-large"})
    with app.app_context():
        route = db.session.get(ModelRoute, route_id)
        assert (route.public_name, route.upstream_model, route.enabled) == (
            "quick", "fake-large", False)
    post_form(admin_client, f"/admin/models/{route_id}", f"/admin/models/{route_id}/delete")
    with app.app_context():
        assert db.session.get(ModelRoute, route_id) is None
