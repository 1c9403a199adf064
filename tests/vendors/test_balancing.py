"""Load balancing across deployments and cooldowns, through the real SDKs against the fake vendor,
with the state in the process and shared through a real Redis."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import redis

from app.vendors.balancing import Balancer, CooldownPolicy, RedisRouteState, RouteState
from app.vendors.catalog import Catalog, Route
from app.vendors.errors import VendorBadRequest, VendorUnavailable
from app.vendors.manager import RetryPolicy, VendorManager
from app.vendors.observer import VendorObserver
from app.vendors.registry import HandlerPool
from app.vendors.types import ChatMessage, ChatRequest, Credential


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Heard(VendorObserver):
    def __init__(self) -> None:
        self.cooldowns: list[str] = []

    def cooldown(self, vendor: str) -> None:
        self.cooldowns.append(vendor)


def ask() -> ChatRequest:
    return ChatRequest(model="", messages=(ChatMessage("user", "hello"),))


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
    managers: list[VendorManager] = []

    def build(*routes: Route, state: RouteState, observer=None) -> VendorManager:
        manager = VendorManager(Catalog(credentials=creds, routes=routes), pool=HandlerPool(),
                                policy=RetryPolicy(retries=0), sleep=lambda s: None,
                                balancer=Balancer(state, random.Random(7)), observer=observer)
        managers.append(manager)
        return manager

    yield build
    for manager in managers:
        manager.pool.close()


def deployment(credential, upstream, **fields) -> Route:
    return Route(public_name="chat", credential=credential, upstream_model=upstream, **fields)


def sent_models(fake_vendor, since: int = 0) -> list[str]:
    """The models of the completions the fake received, after the first ``since`` requests."""
    return [r.model for r in fake_vendor.requests[since:] if r.model]


def test_weighted_deployments_share_calls_in_proportion_to_their_weights(creds):
    heavy = deployment(creds["oa"], "fake-chat", weight=3)
    light = deployment(creds["an"], "fake-chat", weight=1)
    balancer = Balancer(RouteState(), random.Random(1))

    firsts = Counter(balancer.order([heavy, light])[0].route.label for _ in range(4000))

    assert 0.70 < firsts["oa/fake-chat"] / 4000 < 0.80
    assert firsts["an/fake-chat"] > 0


def test_priority_still_comes_before_weight(creds):
    first = deployment(creds["an"], "fake-chat", weight=1, priority=0)
    later = deployment(creds["oa"], "fake-chat", weight=1000, priority=1)
    balancer = Balancer(RouteState(), random.Random(3))

    assert {balancer.order([first, later])[0].route.label for _ in range(200)} == {"an/fake-chat"}


def test_least_busy_sends_the_call_to_the_deployment_with_fewer_calls_in_flight(
        build, creds, fake_vendor):
    state = RouteState()
    busy = deployment(creds["oa"], "fake-chat", strategy="least_busy")
    idle = deployment(creds["an"], "fake-large", strategy="least_busy")
    manager = build(busy, idle, state=state)
    state.started("oa/fake-chat")

    _, used = manager.complete("chat", ask(), role=None)

    assert used.label == "an/fake-large"
    assert state.statuses(["an/fake-large"])["an/fake-large"].in_flight == 0  # given back


def test_a_least_busy_stream_counts_in_flight_until_it_is_closed(build, creds, fake_vendor):
    state = RouteState()
    manager = build(deployment(creds["oa"], "fake-chat", strategy="least_busy"),
                    deployment(creds["an"], "fake-chat", strategy="least_busy"), state=state)

    route, deltas = manager.open_stream("chat", ask(), role=None)
    assert state.statuses([route.label])[route.label].in_flight == 1
    deltas.close()
    assert state.statuses([route.label])[route.label].in_flight == 0


def test_lowest_latency_prefers_the_faster_deployment_once_both_are_measured(creds):
    state = RouteState()
    slow = deployment(creds["oa"], "fake-chat", strategy="lowest_latency")
    fast = deployment(creds["an"], "fake-chat", strategy="lowest_latency")
    state.observe_latency("oa/fake-chat", 0.9)
    balancer = Balancer(state, random.Random(5))
    assert balancer.order([slow, fast])[0].route is fast  # never measured: tried first

    state.observe_latency("an/fake-chat", 0.2)
    assert {balancer.order([slow, fast])[0].route.label for _ in range(50)} == {"an/fake-chat"}


def test_a_failing_deployment_is_cooled_down_then_probed_once_and_trusted_again(
        build, creds, fake_vendor):
    clock, heard = Clock(), Heard()
    state = RouteState(CooldownPolicy(failures=2, window=60, cooldown=30), clock=clock)
    flaky = deployment(creds["oa"], "flaky-3", priority=0)
    steady = deployment(creds["an"], "fake-chat", priority=1)
    manager = build(flaky, steady, state=state, observer=heard)

    for _ in range(2):  # two transient failures: each call falls back to the steady one
        assert manager.complete("chat", ask(), role=None)[1] is steady
    assert sent_models(fake_vendor) == ["flaky-3", "fake-chat"] * 2
    assert heard.cooldowns == ["oa"]
    status = state.statuses(["oa/flaky-3"])["oa/flaky-3"]
    assert status.state(clock()) == "cooling" and status.last_error == "unavailable"

    mark = len(fake_vendor.requests)
    manager.complete("chat", ask(), role=None)
    assert sent_models(fake_vendor, mark) == ["fake-chat"]  # out of rotation: not even tried

    clock.now += 31  # half-open: one probe, which fails (the third 503) and cools it again
    mark = len(fake_vendor.requests)
    assert manager.complete("chat", ask(), role=None)[1] is steady
    assert sent_models(fake_vendor, mark) == ["flaky-3", "fake-chat"]
    assert state.statuses(["oa/flaky-3"])["oa/flaky-3"].state(clock()) == "cooling"

    clock.now += 31  # the next probe succeeds: trusted again, first in line
    assert manager.complete("chat", ask(), role=None)[1] is flaky
    assert state.statuses(["oa/flaky-3"])["oa/flaky-3"].state(clock()) == "healthy"
    mark = len(fake_vendor.requests)
    assert manager.complete("chat", ask(), role=None)[1] is flaky
    assert sent_models(fake_vendor, mark) == ["flaky-3"]


def test_a_bad_request_does_not_count_toward_a_cooldown(build, creds, fake_vendor):
    state = RouteState(CooldownPolicy(failures=1))
    manager = build(deployment(creds["oa"], "error-400", priority=0),
                    deployment(creds["an"], "fake-chat", priority=1), state=state)

    for _ in range(3):
        with pytest.raises(VendorBadRequest):
            manager.complete("chat", ask(), role=None)

    assert state.statuses(["oa/error-400"])["oa/error-400"].state(state.clock()) == "healthy"


def test_when_every_deployment_is_cooling_down_they_are_still_tried(build, creds, fake_vendor):
    state = RouteState(CooldownPolicy(failures=1, cooldown=300))
    manager = build(deployment(creds["oa"], "error-503"), deployment(creds["an"], "error-503"),
                    state=state)
    with pytest.raises(VendorUnavailable):
        manager.complete("chat", ask(), role=None)
    mark = len(fake_vendor.requests)

    with pytest.raises(VendorUnavailable):
        manager.complete("chat", ask(), role=None)

    assert len(sent_models(fake_vendor, mark)) == 2


# -- shared through Redis ---------------------------------------------------------------------


@pytest.fixture
def shared_state():
    """Two instances' route states over the machine's Redis, under a key prefix of their own."""
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"parlor-test:{random.getrandbits(48):x}:route:"
    clock = Clock()
    states = []
    for _ in range(2):
        state = RedisRouteState(client, CooldownPolicy(failures=2, cooldown=30), clock=clock,
                                errors=(redis.RedisError,))
        state.PREFIX = prefix
        states.append(state)
    yield states, clock
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def test_a_cooldown_recorded_by_one_instance_takes_the_deployment_out_on_another(
        build, creds, fake_vendor, shared_state):
    (one, other), clock = shared_state
    flaky = deployment(creds["oa"], "error-503", priority=0)
    steady = deployment(creds["an"], "fake-chat", priority=1)
    first, second = build(flaky, steady, state=one), build(flaky, steady, state=other)

    first.complete("chat", ask(), role=None)
    second.complete("chat", ask(), role=None)  # the second failure, counted across instances
    mark = len(fake_vendor.requests)

    assert first.complete("chat", ask(), role=None)[1] is steady
    assert sent_models(fake_vendor, mark) == ["fake-chat"]
    status = one.statuses(["oa/error-503"])["oa/error-503"]
    assert status.state(clock()) == "cooling" and status.last_error == "unavailable"


def test_in_flight_counts_and_probes_are_shared(shared_state):
    (one, other), clock = shared_state
    one.started("oa/fake-chat")
    one.started("oa/fake-chat")
    other.finished("oa/fake-chat")
    assert other.statuses(["oa/fake-chat"])["oa/fake-chat"].in_flight == 1

    assert one.take_probe("oa/fake-chat") is True
    assert other.take_probe("oa/fake-chat") is False  # one probe at a time, across instances


def test_with_redis_unreachable_the_process_keeps_its_own_state():
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    state = RedisRouteState(client, CooldownPolicy(failures=1), errors=(redis.RedisError,))

    assert state.failed("oa/x", "timeout", probe=False) is True
    assert state.statuses(["oa/x"])["oa/x"].state(state.clock()) == "cooling"
