"""A bare upstream id (``fake-chat`` for ``oa/fake-chat``, as SDKs and agents that strip the
prefix send it) resolves when exactly one vendor offers it; several is a 404 naming them."""

from __future__ import annotations

import openai
import pytest

from app.vendors.catalog import AmbiguousModelError, Catalog, Route
from app.vendors.errors import UnknownModelError
from app.vendors.manager import VendorManager
from app.vendors.registry import HandlerPool
from app.vendors.types import ChatMessage, ChatRequest, Credential
from tests.conftest import fake_vendor_env


def ask() -> ChatRequest:
    return ChatRequest(model="", messages=(ChatMessage("user", "hi"),))


@pytest.fixture
def creds(fake_vendor) -> dict[str, Credential]:
    return {
        "oa": Credential(name="oa", kind="openai-compatible", api_key=fake_vendor.api_key,
                         base_url=fake_vendor.openai_base_url, timeout=5.0),
        "an": Credential(name="an", kind="anthropic", api_key=fake_vendor.api_key,
                         base_url=fake_vendor.anthropic_base_url, timeout=5.0),
    }


@pytest.fixture
def build(creds):
    """A manager over the fake with the named vendors and routes; closed afterwards."""
    managers: list[VendorManager] = []

    def build(*routes: Route, vendors=("oa", "an"), role_models=None) -> VendorManager:
        catalog = Catalog(credentials={v: creds[v] for v in vendors}, routes=routes,
                          role_models=role_models or {})
        managers.append(VendorManager(catalog, pool=HandlerPool()))
        return managers[-1]

    yield build
    for manager in managers:
        manager.pool.close()


def test_a_bare_id_one_vendor_lists_resolves_to_that_vendor(build, fake_vendor):
    manager = build(vendors=("oa",))
    result, route = manager.complete("fake-chat", ask(), role="member")
    assert route.public_name == "oa/fake-chat" and route.label == "oa/fake-chat"
    assert result.text == "Echo: hi"
    assert fake_vendor.last_request.model == "fake-chat"


def test_a_bare_id_several_vendors_list_is_a_404_naming_each(build):
    manager = build()
    with pytest.raises(AmbiguousModelError) as caught:
        manager.complete("fake-chat", ask(), role="member")
    assert isinstance(caught.value, UnknownModelError)
    assert caught.value.candidates == ["an/fake-chat", "oa/fake-chat"]
    assert "an/fake-chat, oa/fake-chat" in str(caught.value)


def test_an_explicit_routes_upstream_model_resolves_to_the_route(build, creds):
    manager = build(Route("house", creds["an"], "house-model"))
    routes = manager.routes_for("house-model", "member")
    assert [r.public_name for r in routes] == ["house"]


def test_an_explicit_route_and_another_vendors_list_are_ambiguous(build, creds):
    manager = build(Route("fast", creds["an"], "fake-chat"))
    with pytest.raises(AmbiguousModelError) as caught:
        manager.routes_for("fake-chat", "member")
    assert caught.value.candidates == ["fast", "oa/fake-chat"]


def test_routes_the_role_may_not_use_are_neither_used_nor_named(build, creds):
    manager = build(Route("secret", creds["an"], "house-model", roles=frozenset({"admin"})))
    with pytest.raises(UnknownModelError) as caught:
        manager.routes_for("house-model", "member")
    assert "secret" not in str(caught.value)
    assert manager.routes_for("house-model", "admin")[0].public_name == "secret"


def test_a_roles_model_list_narrows_the_candidates(build):
    manager = build(role_models={"member": frozenset({"oa/*"})})
    assert manager.routes_for("fake-chat", "member")[0].label == "oa/fake-chat"
    with pytest.raises(AmbiguousModelError):
        manager.routes_for("fake-chat", "admin")


def test_an_id_nobody_offers_stays_unknown(build):
    with pytest.raises(UnknownModelError) as caught:
        build().complete("gpt-nothing", ask(), role="member")
    assert not isinstance(caught.value, AmbiguousModelError)


def test_the_vendors_model_lists_are_read_once_for_many_calls(build, fake_vendor):
    manager = build(vendors=("oa",))
    for _ in range(3):
        manager.complete("fake-chat", ask(), role="member")
    assert len([r for r in fake_vendor.requests if r.path == "/v1/models"]) == 1


def test_a_slashed_upstream_id_resolves_too(build, fake_vendor):
    fake_vendor.models = ["meta-llama/Llama-3-8B"]
    manager = build(vendors=("oa",))
    assert manager.routes_for("meta-llama/Llama-3-8B", "member")[0].public_name == (
        "oa/meta-llama/Llama-3-8B")


@pytest.fixture
def app(make_app, fake_vendor):
    """Only the ``openai`` vendor, on the fake: its models' bare ids are unambiguous."""
    return make_app(**fake_vendor_env(fake_vendor, "openai"))


def test_the_openai_sdk_can_name_a_model_without_its_vendor(live_server, make_key, fake_vendor):
    with openai.OpenAI(base_url=live_server + "/v1", api_key=make_key(),
                       max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="fake-chat", messages=[{"role": "user", "content": "hello"}])
    assert raw.headers["x-parlor-route"] == "openai/fake-chat"
    assert raw.parse().choices[0].message.content == "Echo: hello"
    assert fake_vendor.last_request.model == "fake-chat"
