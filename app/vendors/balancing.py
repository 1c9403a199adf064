"""Load balancing across a model's deployments, and cooldowns for deployments that keep failing.

A public model name can have several routes (deployments) at the same priority, each with a
``weight``; the name's strategy picks the order they are tried in: ``weighted`` (random, in
proportion to the weights; the default), ``least_busy`` (fewest calls in flight) or
``lowest_latency`` (moving average of the time to the first token, or of a whole call).

A deployment that fails with transient errors ``failures`` times within ``window`` seconds is
cooled down for ``cooldown`` seconds: it goes to the back of the order (tried only when
nothing else is left). When its cooldown ends, one call is let through as a probe (half-open);
its success makes the deployment trusted again, its failure cools it down again. Active health
checks (app/vendors/health_checks.py) feed the same state, and the last one's result is kept.

The state lives in a :class:`RouteState`: in the process by default, in Redis
(:class:`RedisRouteState`) when several instances must share it. A name with a single route
reads no state at all on its way to the vendor.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.vendors.catalog import Route

log = logging.getLogger(__name__)

STRATEGIES = ("weighted", "least_busy", "lowest_latency")
DEFAULT_STRATEGY = "weighted"
LATENCY_WEIGHT = 0.3  # of the newest sample in the moving average


@dataclass(frozen=True)
class CooldownPolicy:
    failures: int = 3  # transient failures within ``window`` that cool a deployment down
    window: float = 60.0
    cooldown: float = 30.0
    probe_seconds: float = 30.0  # how long one probe call holds the half-open slot


@dataclass(frozen=True)
class RouteStatus:
    """What is known of one deployment (a route's ``label``: credential and upstream model)."""

    in_flight: int = 0
    latency: float | None = None  # seconds, moving average; None: never measured
    cooling_until: float | None = None  # time.time(); None: not cooling down
    last_error: str | None = None  # the kind of the error that cooled it down
    probing: bool = False  # a probe call holds the half-open slot now
    checked_at: float | None = None  # time.time() of the last active health check
    check_result: str | None = None  # its result: "ok" or the error kind

    def state(self, now: float) -> str:
        """``healthy``, ``cooling`` or ``half-open`` (cooldown over, waiting for a probe)."""
        if self.cooling_until is None:
            return "healthy"
        return "cooling" if now < self.cooling_until else "half-open"


class RouteState:
    """Deployment state kept in this process."""

    def __init__(self, policy: CooldownPolicy | None = None,
                 clock: Callable[[], float] = time.time):
        self.policy = policy or CooldownPolicy()
        self.clock = clock
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._latency: dict[str, float] = {}
        self._failures: dict[str, list[float]] = {}
        self._cooling: dict[str, tuple[float, str]] = {}  # label -> (until, error kind)
        self._probes: dict[str, float] = {}  # label -> when the probe's hold ends
        self._checks: dict[str, tuple[float, str]] = {}  # label -> (when, result)

    def statuses(self, labels: Iterable[str]) -> dict[str, RouteStatus]:
        now = self.clock()
        with self._lock:
            return {label: RouteStatus(
                in_flight=self._in_flight.get(label, 0), latency=self._latency.get(label),
                cooling_until=self._cooling.get(label, (None,))[0],
                last_error=self._cooling.get(label, (None, None))[1],
                probing=self._probes.get(label, 0) > now,
                checked_at=self._checks.get(label, (None,))[0],
                check_result=self._checks.get(label, (None, None))[1]) for label in labels}

    def checked(self, label: str, result: str) -> None:
        """Keep the result of an active health check (``ok`` or the error kind)."""
        with self._lock:
            self._checks[label] = (self.clock(), result)

    def claim(self, name: str, seconds: float) -> bool:
        """Whether this process does the periodic job ``name`` now; the state of one process
        is its own, so it always does."""
        return True

    def started(self, label: str) -> None:
        with self._lock:
            self._in_flight[label] = self._in_flight.get(label, 0) + 1

    def finished(self, label: str) -> None:
        with self._lock:
            self._in_flight[label] = max(self._in_flight.get(label, 0) - 1, 0)

    def observe_latency(self, label: str, seconds: float) -> None:
        with self._lock:
            self._latency[label] = _moving_average(self._latency.get(label), seconds)

    def take_probe(self, label: str) -> bool:
        """Whether this caller may send the half-open probe (one caller per ``probe_seconds``)."""
        now = self.clock()
        with self._lock:
            if self._probes.get(label, 0) > now:
                return False
            self._probes[label] = now + self.policy.probe_seconds
            return True

    def failed(self, label: str, kind: str, *, probe: bool) -> bool:
        """Count a transient failure; True when it cools the deployment down (now)."""
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failures.get(label, []) if t > now - self.policy.window]
            recent.append(now)
            if not probe and len(recent) < self.policy.failures:
                self._failures[label] = recent
                return False
            self._failures.pop(label, None)
            self._probes.pop(label, None)
            self._cooling[label] = (now + self.policy.cooldown, kind)
            return True

    def recovered(self, label: str) -> None:
        """A probe succeeded: the deployment is trusted again."""
        with self._lock:
            self._cooling.pop(label, None)
            self._probes.pop(label, None)
            self._failures.pop(label, None)


class RedisRouteState(RouteState):
    """Deployment state in Redis, shared by every instance; while Redis cannot be reached, the
    process's own state stands in (and says so in the log, once a minute at most)."""

    PREFIX = "parlor:route:"
    RECHECK_SECONDS = 30.0

    def __init__(self, client, policy: CooldownPolicy | None = None,
                 clock: Callable[[], float] = time.time, errors: tuple = (Exception,)):
        super().__init__(policy, clock)
        self._client = client
        self._errors = errors
        self._down_until = 0.0

    def _key(self, label: str, what: str) -> str:
        return f"{self.PREFIX}{label}:{what}"

    def _shared(self, action: Callable, fallback: Callable):
        if time.monotonic() < self._down_until:
            return fallback()
        try:
            return action()
        except self._errors as exc:
            self._down_until = time.monotonic() + self.RECHECK_SECONDS
            log.warning("route state unreachable in Redis (%s); this process keeps its own "
                        "for %.0f s", type(exc).__name__, self.RECHECK_SECONDS)
            return fallback()

    def statuses(self, labels: Iterable[str]) -> dict[str, RouteStatus]:
        labels = list(labels)

        def read():
            keys = [self._key(label, what) for label in labels
                    for what in ("inflight", "latency", "cooling", "probe", "check")]
            values = self._client.mget(keys)
            now, found = self.clock(), {}
            for index, label in enumerate(labels):
                in_flight, latency, cooling, probe, check = values[index * 5:index * 5 + 5]
                until, _, kind = (cooling or b"").decode().partition(" ")
                checked_at, _, result = (check or b"").decode().partition(" ")
                found[label] = RouteStatus(
                    in_flight=max(int(in_flight or 0), 0),
                    latency=float(latency) if latency else None,
                    cooling_until=float(until) if until else None,
                    last_error=kind or None,
                    probing=bool(probe) and float(probe) > now,
                    checked_at=float(checked_at) if checked_at else None,
                    check_result=result or None)
            return found

        return self._shared(read, lambda: super(RedisRouteState, self).statuses(labels))

    def started(self, label: str) -> None:
        def add():
            pipe = self._client.pipeline(transaction=False)
            pipe.incr(self._key(label, "inflight"))
            # a worker killed mid-call never gives its count back: let it fade
            pipe.expire(self._key(label, "inflight"), 600)
            pipe.execute()
        self._shared(add, lambda: super(RedisRouteState, self).started(label))

    def finished(self, label: str) -> None:
        self._shared(lambda: self._client.decr(self._key(label, "inflight")),
                     lambda: super(RedisRouteState, self).finished(label))

    def observe_latency(self, label: str, seconds: float) -> None:
        super().observe_latency(label, seconds)  # this process's average, shared as a whole
        average = self._latency[label]
        self._shared(lambda: self._client.set(self._key(label, "latency"), f"{average:.6f}",
                                              ex=3600), lambda: None)

    def take_probe(self, label: str) -> bool:
        now = self.clock()
        hold = self.policy.probe_seconds
        return bool(self._shared(
            lambda: self._client.set(self._key(label, "probe"), f"{now + hold:.3f}",
                                     nx=True, ex=max(int(hold), 1)),
            lambda: super(RedisRouteState, self).take_probe(label)))

    def failed(self, label: str, kind: str, *, probe: bool) -> bool:
        policy = self.policy

        def count() -> bool:
            key = self._key(label, "failures")
            pipe = self._client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, max(int(policy.window), 1), nx=True)
            failures = pipe.execute()[0]
            if not probe and failures < policy.failures:
                return False
            until = self.clock() + policy.cooldown
            pipe = self._client.pipeline(transaction=False)
            pipe.delete(key, self._key(label, "probe"))
            # kept past the cooldown: after it the deployment is half-open until a probe
            pipe.set(self._key(label, "cooling"), f"{until:.3f} {kind}",
                     ex=int(policy.cooldown + policy.window + policy.probe_seconds))
            pipe.execute()
            return True

        return self._shared(count, lambda: super(RedisRouteState, self).failed(
            label, kind, probe=probe))

    def checked(self, label: str, result: str) -> None:
        value = f"{self.clock():.3f} {result}"
        self._shared(lambda: self._client.set(self._key(label, "check"), value, ex=86400),
                     lambda: super(RedisRouteState, self).checked(label, result))

    def claim(self, name: str, seconds: float) -> bool:
        """One instance of all that share the Redis does ``name`` per ``seconds``."""
        return bool(self._shared(
            lambda: self._client.set(f"{self.PREFIX}job:{name}", "1", nx=True,
                                     px=max(int(seconds * 1000), 1)),
            lambda: True))

    def recovered(self, label: str) -> None:
        self._shared(lambda: self._client.delete(*(self._key(label, what) for what in
                                                   ("cooling", "probe", "failures"))),
                     lambda: super(RedisRouteState, self).recovered(label))


@dataclass(frozen=True)
class Attempt:
    """A route to try, and whether this call is its half-open probe."""

    route: Route
    probe: bool = False


class Balancer:
    """Orders a name's routes for one call (strategy within each priority, cooled ones last)."""

    def __init__(self, state: RouteState | None = None, rng: random.Random | None = None):
        self.state = state or RouteState()
        self.rng = rng or random.Random()

    def order(self, routes: list[Route]) -> list[Attempt]:
        if len(routes) <= 1:
            return [Attempt(route) for route in routes]
        statuses = self.state.statuses({route.label for route in routes})
        now = self.state.clock()
        ready, cooled = [], []
        # routes_for gives the name's routes by priority, then its fallback group's
        for _, tier in groupby(routes, key=lambda r: (r.public_name, r.priority)):
            for route in self._by_strategy(list(tier), statuses):
                status = statuses[route.label]
                state = status.state(now)
                if state == "healthy":
                    ready.append(Attempt(route))
                elif state == "half-open" and not status.probing \
                        and self.state.take_probe(route.label):
                    ready.append(Attempt(route, probe=True))
                else:
                    cooled.append(Attempt(route))
        return ready + cooled

    def _by_strategy(self, tier: list[Route], statuses: dict[str, RouteStatus]) -> list[Route]:
        if len(tier) == 1:
            return tier
        strategy = tier[0].strategy
        shuffled = self.rng.sample(tier, len(tier))  # ties go either way
        if strategy == "least_busy":
            return sorted(shuffled, key=lambda r: statuses[r.label].in_flight)
        if strategy == "lowest_latency":  # unmeasured first, to measure them
            return sorted(shuffled, key=lambda r: statuses[r.label].latency or 0.0)
        # weighted random without replacement: each route's key is u ** (1 / weight)
        return sorted(tier, key=lambda r: self.rng.random() ** (1 / max(r.weight, 1)),
                      reverse=True)


def _moving_average(average: float | None, sample: float) -> float:
    if average is None:
        return sample
    return (1 - LATENCY_WEIGHT) * average + LATENCY_WEIGHT * sample
