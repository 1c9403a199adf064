"""Active health checks through the real SDKs against the fake vendor: a deployment answering
503 is cooled down by its checks alone, and its check, not a client, finds it healed."""

from __future__ import annotations

import random

import pytest
import redis

from app.vendors.balancing import Balancer, CooldownPolicy, RedisRouteState, RouteState
from app.vendors.catalog import Catalog, Route
from app.vendors.health_checks import HealthChecker
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
        self.checks: list[tuple[str, str]] = []
        self.cooldowns: list[str] = []

    def health_check(self, vendor: str, result: str) -> None:
        self.checks.append((vendor, result))

    def cooldown(self, vendor: str) -> None:
        self.cooldowns.append(vendor)


@pytest.fixture
def credential(fake_vendor) -> Credential:
    return Credential(name="oa", kind="openai-compatible", api_key=fake_vendor.api_key,
                      base_url=fake_vendor.openai_base_url, timeout=5.0)


@pytest.fixture
def manager_for(credential):
    built: list[tuple[VendorManager, HealthChecker]] = []

    def build(state: RouteState, *models: str, checked: bool = True) -> VendorManager:
        routes = tuple(Route(public_name="chat", credential=credential, upstream_model=model,
                             health_check=checked) for model in models)
        manager = VendorManager(Catalog(credentials={"oa": credential}, routes=routes),
                                pool=HandlerPool(), policy=RetryPolicy(retries=0),
                                sleep=lambda s: None, balancer=Balancer(state, random.Random(3)))
        built.append(manager)
        return manager

    yield build
    for manager in built:
        manager.pool.close()


def status(state: RouteState, label: str):
    return state.statuses([label])[label]


def test_checks_cool_a_failing_deployment_down_and_bring_it_back_once_healed(
        manager_for, fake_vendor):
    clock = Clock()
    state = RouteState(CooldownPolicy(failures=2, window=60, cooldown=30), clock=clock)
    manager = manager_for(state, "flaky-3-deploy", "fake-chat")
    heard = Heard()
    checker = HealthChecker(interval=5, observer=heard)
    try:
        assert checker.run_once(manager) == {"oa/flaky-3-deploy": "unavailable",
                                             "oa/fake-chat": "ok"}
        assert status(state, "oa/flaky-3-deploy").state(clock()) == "healthy"  # 1 of 2 failures
        checker.run_once(manager)
        cooled = status(state, "oa/flaky-3-deploy")
        assert (cooled.state(clock()), cooled.last_error, cooled.check_result) == (
            "cooling", "unavailable", "unavailable")
        assert heard.cooldowns == ["oa"]
        # no client call was made: every request the fake saw is a one-token check
        assert all(r.body["max_tokens"] == 1 for r in fake_vendor.requests)
        assert len(fake_vendor.requests_for("flaky-3-deploy")) == 2

        for _ in range(5):  # clients now go to the healthy deployment only
            _, route = manager.complete("chat", ChatRequest(
                model="", messages=(ChatMessage("user", "hi"),)), None)
            assert route.upstream_model == "fake-chat"
        checker.run_once(manager)  # a cooling deployment is not checked
        assert len(fake_vendor.requests_for("flaky-3-deploy")) == 2

        clock.now += 31  # half-open: the check is the probe; it fails (third 503): cooled again
        assert checker.run_once(manager)["oa/flaky-3-deploy"] == "unavailable"
        assert status(state, "oa/flaky-3-deploy").state(clock()) == "cooling"

        clock.now += 31  # healed: the probing check trusts it again
        assert checker.run_once(manager)["oa/flaky-3-deploy"] == "ok"
        healed = status(state, "oa/flaky-3-deploy")
        assert (healed.state(clock()), healed.check_result, healed.checked_at) == (
            "healthy", "ok", clock.now)
        assert ("oa", "ok") in heard.checks and ("oa", "unavailable") in heard.checks
        assert all(r.body["max_tokens"] == 1 for r in fake_vendor.requests_for("flaky-3-deploy"))
    finally:
        checker.close()


def test_routes_that_do_not_opt_in_are_never_checked(manager_for, fake_vendor):
    state = RouteState(CooldownPolicy(failures=1))
    manager = manager_for(state, "error-503", "fake-chat", checked=False)
    checker = HealthChecker(interval=5)
    try:
        assert checker.run_once(manager) == {}
        assert fake_vendor.requests == []
        assert status(state, "oa/error-503").checked_at is None
    finally:
        checker.close()


def test_a_bad_request_check_is_recorded_but_cools_nothing(manager_for):
    state = RouteState(CooldownPolicy(failures=1))
    manager = manager_for(state, "error-400", "fake-chat")
    checker = HealthChecker(interval=5)
    try:
        assert checker.run_once(manager)["oa/error-400"] == "bad_request"
        assert status(state, "oa/error-400").state(state.clock()) == "healthy"
        assert status(state, "oa/error-400").check_result == "bad_request"
    finally:
        checker.close()


def test_instances_sharing_redis_check_once_per_round_and_share_the_result(manager_for,
                                                                           fake_vendor):
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"parlor-test:{random.getrandbits(48):x}:route:"
    states = []
    for _ in range(2):
        state = RedisRouteState(client, CooldownPolicy(failures=1, cooldown=30),
                                errors=(redis.RedisError,))
        state.PREFIX = prefix
        states.append(state)
    one, other = (manager_for(s, "error-503", "fake-chat") for s in states)
    checkers = [HealthChecker(interval=60), HealthChecker(interval=60)]
    try:
        assert checkers[0].run_once(one) == {"oa/error-503": "unavailable", "oa/fake-chat": "ok"}
        assert checkers[1].run_once(other) == {}  # the other instance checked this round
        assert len(fake_vendor.requests_for("error-503")) == 1
        seen = status(states[1], "oa/error-503")
        assert (seen.state(states[1].clock()), seen.check_result) == ("cooling", "unavailable")
    finally:
        for checker in checkers:
            checker.close()
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
