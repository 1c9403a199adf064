"""Models screen: a route marked as an embedding model keeps the mark and the catalog carries it."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services.vendors import vendor_manager
from tests.admin.conftest import post_form
from tests.admin.test_vendors import _add_fake_vendor


def test_a_route_marked_embedding_model_is_one_in_the_catalog(app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    with app.app_context():
        credential_id = db.session.scalar(select(VendorCredential.id))
    response = post_form(admin_client, "/admin/models/", "/admin/models/", {
        "public_name": "embed", "credential_id": credential_id,
        "upstream_model": "text-embedding-3-small", "enabled": "y",
        "capabilities": ["embeddings"]})
    assert response.status_code == 302
    assert "embeddings" in admin_client.get("/admin/models/").get_data(as_text=True)
    with app.app_context():
        route = db.session.scalar(select(ModelRoute).where(ModelRoute.public_name == "embed"))
        assert route.capabilities == ["embeddings"]
        page = admin_client.get(f"/admin/models/{route.id}").get_data(as_text=True)
        assert re.search(r'<input checked[^>]*value="embeddings"', page)
        info = next(m for m in vendor_manager().models(None) if m.id == "embed")
        assert info.embeddings is True
        assert vendor_manager().routes_for("embed", None)[0].capabilities == {"embeddings"}


def test_an_unknown_capability_is_refused_on_the_form(app, admin_client, fake_vendor):
    _add_fake_vendor(admin_client, fake_vendor)
    with app.app_context():
        credential_id = db.session.scalar(select(VendorCredential.id))
    response = post_form(admin_client, "/admin/models/", "/admin/models/", {
        "public_name": "x", "credential_id": credential_id, "upstream_model": "x",
        "capabilities": ["teleport"]})
    assert response.status_code == 400
