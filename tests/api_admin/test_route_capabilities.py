"""Model routes' capabilities through the admin API: set, changed, refused when unknown."""

from __future__ import annotations

import pytest

from tests.fakes.vendor_server import DEFAULT_API_KEY


@pytest.fixture
def stored_vendor(api, fake_vendor) -> None:
    assert api("post", "/vendors", json={"name": "fake", "kind": "openai-compatible",
                                         "base_url": fake_vendor.openai_base_url,
                                         "api_key": DEFAULT_API_KEY}).status_code == 201


def test_a_route_marked_as_embeddings_keeps_the_mark_until_patched(app, api, stored_vendor,
                                                                    member):
    created = api("post", "/models", json={"public_name": "embed", "vendor": "fake",
                                           "upstream_model": "text-embedding-3-small",
                                           "capabilities": ["embeddings"]})
    assert created.status_code == 201, created.get_json()
    route = created.get_json()["data"]
    assert route["capabilities"] == ["embeddings"]
    models = app.test_client().get("/v1/models", headers=member).get_json()["data"]
    assert "embed" in [m["id"] for m in models]
    patched = api("patch", f"/models/{route['id']}", json={"priority": 2})
    assert patched.get_json()["data"]["capabilities"] == ["embeddings"]
    cleared = api("patch", f"/models/{route['id']}", json={"capabilities": []})
    assert cleared.get_json()["data"]["capabilities"] == []


def test_unknown_or_null_capabilities_are_a_400(api, stored_vendor):
    base = {"public_name": "embed", "vendor": "fake", "upstream_model": "m"}
    assert api("post", "/models", json={**base, "capabilities": ["teleport"]}).status_code == 400
    route = api("post", "/models", json=base).get_json()["data"]
    assert route["capabilities"] == []
    assert api("patch", f"/models/{route['id']}",
               json={"capabilities": None}).status_code == 400
