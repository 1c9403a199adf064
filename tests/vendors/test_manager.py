"""VendorManager and Catalog against the fake vendor: routing, roles, retries and fallback."""

from __future__ import annotations

import pytest

from app.vendors.catalog import Catalog, ModelInfo, Route
from app.vendors.errors import (
    UnknownModelError,
    VendorAuthError,
    VendorBadRequest,
    VendorRateLimited,
    VendorUnavailable,
)
from app.vendors.manager import RetryPolicy, VendorManager
from app.vendors.registry import HandlerPool
from app.vendors.types import ChatMessage, ChatRequest, Credential


class Sleeps(list):
    """A stand-in for ``time.sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def ask(text: str = "hello there") -> ChatRequest:
    return ChatRequest(model="", messages=(ChatMessage("user", text),))


@pytest.fixture
def creds(fake_vendor) -> dict[str, Credential]:
    return {
        "oa": Credential(name="oa", kind="openai-compatible", api_key=fake_vendor.api_key,
                         base_url=fake_vendor.openai_base_url, timeout=5.0),
        "an": Credential(name="an", kind="anthropic", api_key=fake_vendor.api_key,
                         base_url=fake_vendor.anthropic_base_url, timeout=5.0),
    }


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def build(creds, sleeps):
    """Make a manager over the fake from explicit routes; closes its handlers afterwards."""
    managers: list[VendorManager] = []

    def build(*routes: Route, policy: RetryPolicy | None = None) -> VendorManager:
        manager = VendorManager(Catalog(credentials=creds, routes=routes), pool=HandlerPool(),
                                policy=policy, sleep=sleeps)
        managers.append(manager)
        return manager

    yield build
    for manager in managers:
        manager.pool.close()


def route(public_name, credential, upstream_model, **fields) -> Route:
    return Route(public_name=public_name, credential=credential, upstream_model=upstream_model,
                 **fields)


def models_sent(fake_vendor) -> list[str]:
    return [r.model for r in fake_vendor.requests if r.model]


# -- name resolution --------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["oa", "an"])
def test_vendor_slash_model_routes_to_that_vendors_upstream_model(build, fake_vendor, vendor):
    manager = build()

    result, used = manager.complete(f"{vendor}/fake-chat", ask("hi"), role="user")

    assert result.text == "Echo: hi"
    assert used.label == f"{vendor}/fake-chat"
    assert used.credential.name == vendor
    sent = fake_vendor.last_request
    assert sent.model == "fake-chat"
    assert sent.path == ("/v1/messages" if vendor == "an" else "/v1/chat/completions")


@pytest.mark.parametrize("name", ["nope/fake-chat", "fake-chat", "oa/", "", "/fake-chat"])
def test_unknown_model_names_raise_unknown_model_error(build, fake_vendor, name):
    manager = build()

    with pytest.raises(UnknownModelError) as caught:
        manager.complete(name, ask(), role="user")

    assert caught.value.model == name
    # No completion went out (a bare id may have the vendors' model lists read).
    assert [r for r in fake_vendor.requests if r.method == "POST"] == []


def test_explicit_route_maps_a_public_name_to_its_upstream_model(build, creds, fake_vendor):
    manager = build(route("house-model", creds["an"], "claude-house"))

    result, used = manager.complete("house-model", ask(), role="user")

    assert used.public_name == "house-model"
    assert fake_vendor.last_request.model == "claude-house"
    assert result.model == "claude-house"


def test_role_restricted_route_is_unknown_to_other_roles(build, creds, fake_vendor):
    manager = build(route("premium", creds["oa"], "fake-large", roles=frozenset({"admin"})))

    with pytest.raises(UnknownModelError):
        manager.complete("premium", ask(), role="user")
    with pytest.raises(UnknownModelError):
        manager.complete("premium", ask(), role=None)
    assert fake_vendor.requests == []

    result, _ = manager.complete("premium", ask("ok"), role="admin")
    assert result.text == "Echo: ok"


def test_models_lists_allowed_routes_then_discovered_vendor_models(build, creds, fake_vendor):
    fake_vendor.models = ["fake-chat", "fake-large"]
    manager = build(
        route("premium", creds["oa"], "fake-large", roles=frozenset({"admin"})),
        route("oa/fake-chat", creds["oa"], "fake-chat", roles=frozenset({"admin"})),
    )

    names = [m.id for m in manager.models("user")]
    assert names == ["an/fake-chat", "an/fake-large", "oa/fake-large"]  # restricted names hidden
    admin = manager.models("admin")
    assert admin[:2] == [ModelInfo("premium", "oa", "fake-large"),
                         ModelInfo("oa/fake-chat", "oa", "fake-chat")]

    listed = len(fake_vendor.requests)
    manager.models("user")
    assert len(fake_vendor.requests) == listed  # discovery is cached


def test_discovery_of_a_failing_vendor_lists_nothing(fake_vendor):
    broken = Credential(name="broken", kind="anthropic", api_key="sk-wrong",
                        base_url=fake_vendor.anthropic_base_url)
    manager = VendorManager(Catalog(credentials={"broken": broken}), pool=HandlerPool())
    try:
        assert manager.discover("broken") == []
        assert manager.models(None) == []
    finally:
        manager.pool.close()


# -- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["oa", "an"])
def test_transient_error_is_retried_after_backoff_and_succeeds(build, fake_vendor, sleeps, vendor):
    manager = build(policy=RetryPolicy(retries=2, backoff=0.25, max_wait=8))

    result, used = manager.complete(f"{vendor}/flaky-1", ask("again"), role=None)

    assert result.text == "Echo: again"
    assert used.label == f"{vendor}/flaky-1"
    assert sleeps == [0.25]
    assert models_sent(fake_vendor) == ["flaky-1", "flaky-1"]


def test_backoff_doubles_and_gives_up_after_the_policy_retries(build, fake_vendor, sleeps):
    manager = build(policy=RetryPolicy(retries=2, backoff=0.5, max_wait=8))

    with pytest.raises(VendorUnavailable):
        manager.complete("oa/flaky-5", ask(), role=None)

    assert sleeps == [0.5, 1.0]
    assert models_sent(fake_vendor) == ["flaky-5"] * 3


def test_retry_after_within_max_wait_is_the_wait(build, fake_vendor, sleeps):
    manager = build(policy=RetryPolicy(retries=1, backoff=0.5, max_wait=8))

    with pytest.raises(VendorRateLimited):
        manager.complete("an/error-429-after-3", ask(), role=None)

    assert sleeps == [3.0]
    assert len(fake_vendor.requests) == 2


def test_bad_request_is_never_retried_nor_rerouted(build, creds, fake_vendor, sleeps):
    manager = build(
        route("chat", creds["oa"], "error-400", fallback_group="g"),
        route("chat", creds["an"], "fake-chat", fallback_group="g", priority=1),
        route("chat-backup", creds["an"], "fake-large", fallback_group="g", priority=2),
    )

    with pytest.raises(VendorBadRequest):
        manager.complete("chat", ask(), role=None)

    assert models_sent(fake_vendor) == ["error-400"]
    assert sleeps == []


# -- fallback ---------------------------------------------------------------------------------


def test_falls_back_to_the_next_route_of_the_fallback_group(build, creds, fake_vendor, sleeps):
    primary = route("smart", creds["oa"], "error-500", fallback_group="smart-group")
    backup = route("smart-backup", creds["an"], "fake-large", fallback_group="smart-group",
                   priority=5)
    other = route("other", creds["an"], "fake-chat", fallback_group="other-group")
    manager = build(primary, other, backup, policy=RetryPolicy(retries=1, backoff=0.1))

    result, used = manager.complete("smart", ask("hi"), role=None)

    assert used == backup
    assert result.text == "Echo: hi"
    assert models_sent(fake_vendor) == ["error-500", "error-500", "fake-large"]
    assert sleeps == [0.1]


def test_fallback_skips_routes_the_role_may_not_use(build, creds, fake_vendor):
    manager = build(
        route("smart", creds["oa"], "error-503", fallback_group="g"),
        route("smart-admin", creds["an"], "fake-large", fallback_group="g",
              roles=frozenset({"admin"})),
        route("smart-open", creds["an"], "fake-chat", fallback_group="g", priority=9),
        policy=RetryPolicy(retries=0),
    )

    _, used = manager.complete("smart", ask(), role="user")

    assert used.public_name == "smart-open"
    assert models_sent(fake_vendor) == ["error-503", "fake-chat"]


@pytest.mark.parametrize("model", ["error-401", "error-403", "error-404"])
def test_auth_and_model_not_found_move_on_without_retrying(
    build, creds, fake_vendor, sleeps, model
):
    manager = build(
        route("chat", creds["oa"], model, fallback_group="g"),
        route("chat", creds["an"], "fake-chat", fallback_group="g", priority=1),
    )

    _, used = manager.complete("chat", ask(), role=None)

    assert used.credential.name == "an"
    assert models_sent(fake_vendor) == [model, "fake-chat"]
    assert sleeps == []


def test_retry_after_beyond_max_wait_moves_on_to_the_next_route(build, creds, fake_vendor, sleeps):
    manager = build(
        route("chat", creds["oa"], "error-429-after-30", fallback_group="g"),
        route("chat", creds["an"], "fake-chat", fallback_group="g", priority=1),
        policy=RetryPolicy(retries=2, backoff=0.5, max_wait=8),
    )

    _, used = manager.complete("chat", ask(), role=None)

    assert used.credential.name == "an"
    assert sleeps == []  # no waiting 30 s, no retry on the rate-limited route
    assert models_sent(fake_vendor) == ["error-429-after-30", "fake-chat"]


def test_last_error_is_raised_when_every_route_fails(build, creds, fake_vendor):
    manager = build(
        route("chat", creds["oa"], "error-500", fallback_group="g"),
        route("chat", creds["an"], "error-429-after-60", fallback_group="g", priority=1),
        policy=RetryPolicy(retries=0),
    )

    with pytest.raises(VendorRateLimited) as caught:
        manager.complete("chat", ask(), role=None)

    assert caught.value.retry_after == 60.0
    assert models_sent(fake_vendor) == ["error-500", "error-429-after-60"]


# -- streams ----------------------------------------------------------------------------------


def test_open_stream_returns_the_route_and_the_deltas(build, fake_vendor):
    manager = build()

    used, deltas = manager.open_stream("an/fake-chat", ask("streamed words"), role=None)

    assert isinstance(used, Route)
    assert used.label == "an/fake-chat"
    collected = list(deltas)
    assert "".join(d.text for d in collected) == "Echo: streamed words"
    assert collected[-1].finish_reason == "stop"
    assert collected[-1].usage.output_tokens == 3


@pytest.mark.parametrize("vendor", ["oa", "an"])
def test_open_stream_retries_a_failure_before_the_first_delta(build, fake_vendor, sleeps, vendor):
    manager = build(policy=RetryPolicy(retries=2, backoff=0.5))

    used, deltas = manager.open_stream(f"{vendor}/flaky-1", ask("hi"), role=None)

    assert sleeps == [0.5]
    assert "".join(d.text for d in deltas) == "Echo: hi"
    assert models_sent(fake_vendor) == ["flaky-1", "flaky-1"]


def test_open_stream_falls_back_when_the_stream_cannot_start(build, creds, fake_vendor):
    manager = build(
        route("chat", creds["oa"], "error-500", fallback_group="g"),
        route("chat-backup", creds["an"], "fake-chat", fallback_group="g"),
        policy=RetryPolicy(retries=0),
    )

    used, deltas = manager.open_stream("chat", ask("hi"), role=None)

    assert used.public_name == "chat-backup"
    assert "".join(d.text for d in deltas) == "Echo: hi"


@pytest.mark.parametrize("vendor", ["oa", "an"])
def test_open_stream_never_retries_once_a_delta_was_sent(
    build, creds, fake_vendor, sleeps, vendor
):
    manager = build(
        route("chat", creds[vendor], "cut-stream", fallback_group="g"),
        route("chat-backup", creds["an"], "fake-chat", fallback_group="g"),
    )

    used, deltas = manager.open_stream("chat", ask("one two three four"), role=None)
    assert used.upstream_model == "cut-stream"
    received = []
    with pytest.raises(VendorUnavailable):
        for delta in deltas:
            received.append(delta)

    assert "".join(d.text for d in received) == "Echo: one "
    assert models_sent(fake_vendor) == ["cut-stream"]  # no retry, no fallback
    assert sleeps == []


@pytest.mark.parametrize("vendor", ["oa", "an"])
def test_closing_the_stream_after_a_delta_closes_the_upstream(build, fake_vendor, vendor):
    manager = build()

    _, deltas = manager.open_stream(f"{vendor}/slow-stream", ask(), role=None)
    assert next(deltas).text == "tick "
    deltas.close()

    assert fake_vendor.wait_for_disconnect("slow-stream")


@pytest.mark.parametrize("vendor", ["oa", "an"])
def test_closing_the_stream_before_reading_closes_the_upstream(build, fake_vendor, vendor):
    manager = build()

    _, deltas = manager.open_stream(f"{vendor}/slow-stream", ask(), role=None)
    deltas.close()  # nothing read yet: the upstream must still be closed

    assert fake_vendor.wait_for_disconnect("slow-stream")


def test_stream_errors_before_any_delta_raise_after_retries(build, fake_vendor, sleeps):
    manager = build(policy=RetryPolicy(retries=1, backoff=0.5))

    with pytest.raises(VendorAuthError):
        manager.open_stream("an/error-401", ask(), role=None)
    assert sleeps == []  # an auth error is not retried

    with pytest.raises(VendorUnavailable):
        manager.open_stream("oa/error-500", ask(), role=None)
    assert sleeps == [0.5]
