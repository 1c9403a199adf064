"""The response cache in the vendor manager, through the real openai SDK against the fake vendor
(whose request log shows whether the vendor was called), in the process and in a real Redis."""

from __future__ import annotations

import random
import time
from dataclasses import replace

import pytest
import redis

from app.vendors.catalog import Catalog, Route
from app.vendors.manager import VendorManager
from app.vendors.registry import HandlerPool
from app.vendors.response_cache import MemoryStore, RedisStore, ResponseCache
from app.vendors.types import ChatMessage, ChatRequest, Credential, ToolSpec

WEATHER = ToolSpec(name="get_weather", parameters={
    "type": "object", "properties": {"city": {"type": "string"}}})


def ask(text: str = "one two three four", **fields) -> ChatRequest:
    return ChatRequest(model="", messages=(ChatMessage("user", text),), **fields)


def make_manager(fake, *, cache_ttl=60, shared=False, upstream="fake-chat", store=None):
    credential = Credential(name="oa", kind="openai-compatible", api_key=fake.api_key,
                            base_url=fake.openai_base_url, timeout=5.0)
    route = Route(public_name="chat", credential=credential, upstream_model=upstream,
                  cache_ttl=cache_ttl, cache_shared=shared)
    return VendorManager(Catalog(credentials={"oa": credential}, routes=(route,)),
                         pool=HandlerPool(), cache=ResponseCache(store or MemoryStore()))


def calls(fake) -> int:
    return len([r for r in fake.requests if r.path == "/v1/chat/completions"])


def streamed(manager, request, scope="user:1"):
    route, deltas = manager.open_stream("chat", request, None, cache_scope=scope)
    return getattr(deltas, "cached", False), list(deltas)


def test_a_repeated_request_is_answered_from_the_cache_without_a_vendor_call(fake_vendor):
    manager = make_manager(fake_vendor)
    first, _ = manager.complete("chat", ask(), None, cache_scope="user:1")
    again, route = manager.complete("chat", ask(), None, cache_scope="user:1")
    assert calls(fake_vendor) == 1
    assert (first.cached, again.cached) == (False, True)
    assert again.text == first.text == "Echo: one two three four"
    assert again.usage == first.usage and route.label == "oa/fake-chat"


def test_a_different_request_misses(fake_vendor):
    manager = make_manager(fake_vendor)
    manager.complete("chat", ask(), None, cache_scope="user:1")
    other, _ = manager.complete("chat", ask(max_tokens=2), None, cache_scope="user:1")
    assert not other.cached and calls(fake_vendor) == 2


def test_a_streamed_hit_is_replayed_as_a_stream_of_the_same_pieces(fake_vendor):
    manager = make_manager(fake_vendor)
    cached, live = streamed(manager, ask())
    assert not cached
    cached, replayed = streamed(manager, ask())
    assert cached and calls(fake_vendor) == 1
    assert [d.text for d in replayed] == [d.text for d in live]
    assert len([d for d in replayed if d.text]) > 1  # a stream, not one block
    assert replayed[-1].finish_reason == "stop" and replayed[-1].usage == live[-1].usage
    whole, _ = manager.complete("chat", ask(), None, cache_scope="user:1")
    assert whole.cached and whole.text == "Echo: one two three four"  # one entry for both


def test_a_tool_call_is_kept_and_replayed(fake_vendor):
    manager = make_manager(fake_vendor, upstream="tool-call")
    request = ask("Paris", tools=(WEATHER,))
    _, live = streamed(manager, request)
    cached, replayed = streamed(manager, request)
    assert cached and calls(fake_vendor) == 1
    call = next(d.tool_call for d in replayed if d.tool_call)
    first = next(d.tool_call for d in live if d.tool_call)
    assert (call.id, call.name) == (first.id, "get_weather")
    assert "".join(d.tool_call.arguments for d in replayed if d.tool_call) == \
        "".join(d.tool_call.arguments for d in live if d.tool_call)
    result, _ = manager.complete("chat", request, None, cache_scope="user:1")
    assert result.cached and result.finish_reason == "tool_calls"


def test_another_users_identical_request_misses_unless_the_route_shares(fake_vendor):
    private = make_manager(fake_vendor)
    private.complete("chat", ask(), None, cache_scope="user:1")
    other, _ = private.complete("chat", ask(), None, cache_scope="user:2")
    assert not other.cached and calls(fake_vendor) == 2

    fake_vendor.reset()
    shared = make_manager(fake_vendor, shared=True)
    shared.complete("chat", ask(), None, cache_scope="user:1")
    other, _ = shared.complete("chat", ask(), None, cache_scope="user:2")
    assert other.cached and calls(fake_vendor) == 1


def test_a_route_without_a_ttl_never_caches(fake_vendor):
    manager = make_manager(fake_vendor, cache_ttl=None)
    manager.complete("chat", ask(), None, cache_scope="user:1")
    again, _ = manager.complete("chat", ask(), None, cache_scope="user:1")
    assert not again.cached and calls(fake_vendor) == 2
    assert not streamed(manager, ask())[0] and calls(fake_vendor) == 3


def test_an_entry_expires_after_the_routes_ttl(fake_vendor):
    manager = make_manager(fake_vendor, cache_ttl=1)
    manager.complete("chat", ask(), None, cache_scope="user:1")
    time.sleep(1.05)
    again, _ = manager.complete("chat", ask(), None, cache_scope="user:1")
    assert not again.cached and calls(fake_vendor) == 2


def test_a_stream_that_does_not_finish_is_not_kept(fake_vendor):
    manager = make_manager(fake_vendor)
    route, deltas = manager.open_stream("chat", ask(), None, cache_scope="user:1")
    next(deltas)
    deltas.close()  # the client left
    cached, _ = streamed(manager, ask())
    assert not cached and calls(fake_vendor) == 2


def test_a_vendor_error_is_not_kept(fake_vendor):
    manager = make_manager(fake_vendor, upstream="error-400")
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - VendorBadRequest, each time from the vendor
            manager.complete("chat", ask(), None, cache_scope="user:1")
    assert calls(fake_vendor) == 2


def test_two_instances_share_entries_through_redis(fake_vendor):
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"parlor-test:{random.getrandbits(48):x}:cache:"
    try:
        one = make_manager(fake_vendor, store=RedisStore(client, (redis.RedisError,), prefix))
        two = make_manager(fake_vendor, store=RedisStore(client, (redis.RedisError,), prefix))
        one.complete("chat", ask(), None, cache_scope="user:1")
        cached, replayed = streamed(two, ask())
        assert cached and calls(fake_vendor) == 1
        assert "".join(d.text for d in replayed) == "Echo: one two three four"
        ttl = client.ttl(next(client.scan_iter(prefix + "*")))
        assert 0 < ttl <= 60
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)


def test_redis_down_means_misses_not_errors(fake_vendor):
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    manager = make_manager(fake_vendor, store=RedisStore(client, (redis.RedisError,)))
    manager.complete("chat", ask(), None, cache_scope="user:1")
    again, _ = manager.complete("chat", ask(), None, cache_scope="user:1")
    assert not again.cached and calls(fake_vendor) == 2


def test_the_key_covers_every_request_field(fake_vendor):
    from app.vendors.response_cache import cache_key

    route = make_manager(fake_vendor).catalog.routes[0]
    base = ask()
    keys = {cache_key(route, request, "user:1") for request in (
        base, replace(base, temperature=0.5), replace(base, tools=(WEATHER,)),
        replace(base, native_fields={"seed": 1}), replace(base, model="other"))}
    assert len(keys) == 5
    assert cache_key(route, base, "user:1") == cache_key(route, ask(), "user:1")


def test_a_hit_is_not_taken_as_a_cooling_deployments_probe(fake_vendor):
    """A cached answer says nothing of the vendor's health: a half-open deployment stays
    half-open until a real call goes through."""
    from app.vendors.balancing import Balancer, CooldownPolicy, RouteState

    state = RouteState(CooldownPolicy(failures=1, cooldown=0.01))
    manager = make_manager(fake_vendor)
    manager.balancer = Balancer(state)
    manager.complete("chat", ask(), None, cache_scope="user:1")
    label = manager.catalog.routes[0].label
    state.failed(label, "unavailable", probe=False)  # cooled down
    time.sleep(0.02)  # now half-open: the next real call is the probe
    hit, _ = manager.complete("chat", ask(), None, cache_scope="user:1")
    assert hit.cached and calls(fake_vendor) == 1
    status = state.statuses([label])[label]
    assert status.state(time.time()) == "half-open" and not status.probing
