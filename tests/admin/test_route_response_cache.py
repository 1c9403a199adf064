"""A route opts in to the response cache on the admin Models screen and through the admin API:
its TTL and sharing reach the vendor manager's route; a bad TTL is refused next to the field."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services.vendors import vendor_manager
from tests.admin.conftest import post_form
from tests.admin.test_vendors import _add_fake_vendor


def test_the_models_form_sets_the_cache_ttl_and_sharing(app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    with app.app_context():
        credential_id = db.session.scalar(select(VendorCredential.id))
    response = post_form(admin_client, "/admin/models/", "/admin/models/", {
        "public_name": "faq", "credential_id": credential_id, "upstream_model": "fake-chat",
        "enabled": "y", "response_cache_ttl": "3600", "response_cache_shared": "y"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(ModelRoute).where(ModelRoute.public_name == "faq"))
        assert (row.response_cache_ttl, row.response_cache_shared) == (3600, True)
        route = vendor_manager().routes_for("faq", "admin")[0]
        assert (route.cache_ttl, route.cache_shared) == (3600, True)
    page = admin_client.get(f"/admin/models/{row.id}").get_data(as_text=True)
    assert 'value="3600"' in page  # the edit form shows it back

    refused = post_form(admin_client, "/admin/models/", "/admin/models/", {
        "public_name": "faq2", "credential_id": credential_id, "upstream_model": "fake-chat",
        "enabled": "y", "response_cache_ttl": "0"})
    assert refused.status_code == 400
    assert "Cache answers for" in refused.get_data(as_text=True)


def test_the_admin_api_sets_and_clears_the_cache_ttl(app, admin_client, fake_vendor, make_key):
    from tests.conftest import bearer

    _add_fake_vendor(admin_client, fake_vendor)
    headers = bearer(make_key("root@example.com", "admin"))
    client = app.test_client()
    created = client.post("/api/v1/admin/models", headers=headers, json={
        "public_name": "faq", "vendor": "fake", "upstream_model": "fake-chat",
        "response_cache_ttl": 600})
    assert created.status_code == 201, created.get_json()
    route = created.get_json()["data"]
    assert (route["response_cache_ttl"], route["response_cache_shared"]) == (600, False)
    patched = client.patch(f"/api/v1/admin/models/{route['id']}", headers=headers,
                           json={"response_cache_ttl": None})
    assert patched.get_json()["data"]["response_cache_ttl"] is None
    too_long = client.post("/api/v1/admin/models", headers=headers, json={
        "public_name": "faq3", "vendor": "fake", "upstream_model": "fake-chat",
        "response_cache_ttl": 10**7})
    assert too_long.status_code == 400
    assert "response_cache_ttl" in too_long.get_data(as_text=True)
