"""Vendors and model routes through the admin API: keys only ever as masks, SSRF-safe base
URLs, environment vendors read-only, test connection and import through the fake vendor."""

from __future__ import annotations

import json

import pytest

from tests.api_admin.conftest import audit_trail
from tests.fakes.vendor_server import DEFAULT_API_KEY, DEFAULT_MODELS

ROTATED_KEY = "sk-rotated-abcdefghijklmnopWXYZ"


@pytest.fixture
def stored_vendor(api, fake_vendor) -> dict:
    response = api("post", "/vendors", json={"name": "fake", "kind": "openai-compatible",
                                             "base_url": fake_vendor.openai_base_url,
                                             "api_key": DEFAULT_API_KEY})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def leaks(text: str, secret: str) -> bool:
    return secret in text or secret[:-4] in text


def test_vendor_key_never_appears_in_any_answer(app, api, stored_vendor):
    assert stored_vendor["key_mask"] == f"…{DEFAULT_API_KEY[-4:]}"
    answers = [json.dumps(stored_vendor)]
    answers.append(api("get", "/vendors").get_data(as_text=True))
    answers.append(api("get", "/vendors/fake").get_data(as_text=True))
    answers.append(api("post", "/vendors/fake/test").get_data(as_text=True))
    patched = api("patch", "/vendors/fake", json={"api_key": ROTATED_KEY, "enabled": False})
    assert patched.get_json()["data"]["key_mask"] == "…WXYZ"
    assert patched.get_json()["data"]["enabled"] is False
    answers += [patched.get_data(as_text=True), api("get", "/vendors").get_data(as_text=True)]
    answers.append(api("get", "/audit?per_page=100").get_data(as_text=True))
    for text in answers:
        assert not leaks(text, DEFAULT_API_KEY) and not leaks(text, ROTATED_KEY), text
        assert "encrypted" not in text
    assert [e["action"] for e in audit_trail(app)] == [
        "vendor.created", "vendor.updated", "vendor.key_rotated"]


def test_environment_vendor_is_listed_read_only(api, fake_vendor, stored_vendor):
    vendors = api("get", "/vendors").get_json()["data"]
    flags = {v["name"]: (v["read_only"], v["id"] is None) for v in vendors}
    assert flags["openai"] == (True, True) and flags["fake"] == (False, False)
    assert vendors[-1]["name"] == "fake"  # the environment's come first
    assert not leaks(json.dumps(vendors), fake_vendor.api_key)
    refused = api("patch", "/vendors/openai", json={"enabled": False})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "conflict"
    assert api("delete", "/vendors/openai").status_code == 409
    assert api("get", "/vendors/nothing").status_code == 404
    assert api("delete", "/vendors/nothing").status_code == 404


@pytest.mark.parametrize("base_url", [
    "http://169.254.169.254/latest/", "http://[fd00:ec2::254]/v1", "http://169.254.1.1/",
    "file:///etc/passwd", "gopher://127.0.0.1:70/", "http://user:pw@example.com/"])
def test_dangerous_base_urls_are_refused(api, stored_vendor, base_url):
    created = api("post", "/vendors", json={"name": "evil", "kind": "openai-compatible",
                                            "base_url": base_url})
    assert created.status_code == 400
    assert created.get_json()["error"]["details"][0]["field"] == "base_url"
    moved = api("patch", "/vendors/fake", json={"base_url": base_url})
    assert moved.status_code == 400
    assert api("get", "/vendors/fake").get_json()["data"]["base_url"] == stored_vendor[
        "base_url"]


def test_vendor_test_lists_models_and_delete_removes_it(api, stored_vendor):
    tested = api("post", "/vendors/fake/test")
    assert tested.status_code == 200
    assert set(DEFAULT_MODELS) <= set(tested.get_json()["data"]["models"])
    assert api("post", "/vendors/nothing/test").status_code == 404
    renamed = api("patch", "/vendors/fake", json={"name": "fake2"})
    assert renamed.get_json()["data"]["name"] == "fake2"
    assert api("delete", "/vendors/fake2").status_code == 204
    names = [v["name"] for v in api("get", "/vendors").get_json()["data"]]
    assert "fake" not in names and "fake2" not in names


def test_model_route_is_created_patched_and_deleted(app, api, stored_vendor, member):
    member_role = next(r for r in api("get", "/roles").get_json()["data"]
                       if r["name"] == "member")
    created = api("post", "/models", json={
        "public_name": "house", "vendor": "fake", "upstream_model": "fake-chat",
        "role_ids": [member_role["id"]], "input_price": 1.5, "output_price": "2.25"})
    assert created.status_code == 201, created.get_json()
    route = created.get_json()["data"]
    assert route["roles"] == ["member"] and route["input_price"] == 1.5
    assert route["output_price"] == 2.25 and route["vendor"] == "fake"
    models = app.test_client().get("/v1/models", headers=member).get_json()["data"]
    assert "house" in [m["id"] for m in models]

    patched = api("patch", f"/models/{route['id']}", json={"enabled": False, "priority": 5})
    assert patched.get_json()["data"] == {**route, "enabled": False, "priority": 5}
    assert [r["id"] for r in api("get", "/models").get_json()["data"]] == [route["id"]]
    assert api("delete", f"/models/{route['id']}").status_code == 204
    assert api("get", f"/models/{route['id']}").status_code == 404
    assert [e["action"] for e in audit_trail(app)][-3:] == [
        "route.created", "route.updated", "route.deleted"]


def test_cache_prices_are_set_patched_and_cleared_through_the_admin_api(api, stored_vendor):
    created = api("post", "/models", json={
        "public_name": "cached", "vendor": "fake", "upstream_model": "fake-chat",
        "input_price": 3, "output_price": 15, "cache_read_price": "0.3",
        "cache_write_price": 3.75}).get_json()["data"]
    assert (created["cache_read_price"], created["cache_write_price"]) == (0.3, 3.75)
    path = f"/models/{created['id']}"
    patched = api("patch", path, json={"cache_read_price": 0.5}).get_json()["data"]
    assert (patched["cache_read_price"], patched["cache_write_price"]) == (0.5, 3.75)
    cleared = api("patch", path, json={"cache_write_price": None}).get_json()["data"]
    assert cleared["cache_write_price"] is None  # null: charged at the input price
    plain = api("post", "/models", json={"public_name": "plain", "vendor": "fake",
                                         "upstream_model": "fake-chat"}).get_json()["data"]
    assert (plain["cache_read_price"], plain["cache_write_price"]) == (None, None)
    bad = api("patch", path, json={"cache_read_price": -1})
    assert bad.status_code == 400 and bad.get_json()["error"]["details"][0]["field"] == (
        "cache_read_price")


def test_bad_routes_are_refused(api, stored_vendor):
    base = {"public_name": "x", "vendor": "fake", "upstream_model": "fake-chat"}
    assert api("post", "/models", json={**base, "vendor": "nosuchvendor"}).status_code == 400
    assert api("post", "/models", json={**base, "public_name": "bad name"}).status_code == 400
    assert api("post", "/models", json={**base, "input_price": -1}).status_code == 400
    route = api("post", "/models", json=base).get_json()["data"]
    assert api("patch", f"/models/{route['id']}", json={"vendor": None}).status_code == 400


def test_import_adds_a_route_per_vendor_model_once(api, stored_vendor):
    first = api("post", "/models/import", json={"vendor": "fake"})
    assert first.status_code == 200
    assert first.get_json()["data"] == {"vendor": "fake", "added": len(DEFAULT_MODELS)}
    names = {r["public_name"] for r in api("get", "/models").get_json()["data"]}
    assert names == {f"fake/{m}" for m in DEFAULT_MODELS}
    assert api("post", "/models/import", json={"vendor": "fake"}).get_json()["data"][
        "added"] == 0
    assert api("post", "/models/import", json={"vendor": "nope"}).status_code == 400
