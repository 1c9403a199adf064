"""The vendor manager: resolves public model names, applies role access, retries and falls back."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

from app.vendors.balancing import Balancer
from app.vendors.catalog import Catalog, ModelInfo, Route
from app.vendors.embeddings import EmbeddingRequest, Embeddings
from app.vendors.errors import (
    UnknownModelError,
    VendorAuthError,
    VendorBadRequest,
    VendorError,
    VendorModelNotFound,
    VendorRateLimited,
    VendorTimeout,
    VendorUnavailable,
)
from app.vendors.observer import VendorObserver
from app.vendors.registry import RESPONSES_KINDS, HandlerPool
from app.vendors.response_cache import (
    Recording,
    Replay,
    ResponseCache,
    entry_of,
    result_of,
)
from app.vendors.responses_api import ResponseEvent, ResponsesCall
from app.vendors.tracing import StreamSpan, VendorTracer
from app.vendors.types import ChatRequest, Delta, Result

log = logging.getLogger(__name__)

# The kind of a vendor error as observers hear it (the metrics' ``kind`` label), most
# specific class first.
ERROR_KINDS = (
    (VendorModelNotFound, "model_not_found"),
    (VendorBadRequest, "bad_request"),
    (VendorAuthError, "auth"),
    (VendorRateLimited, "rate_limited"),
    (VendorTimeout, "timeout"),
    (VendorUnavailable, "unavailable"),
    (VendorError, "error"),
)


def error_kind(exc: VendorError) -> str:
    return next(kind for cls, kind in ERROR_KINDS if isinstance(exc, cls))


@dataclass(frozen=True)
class RetryPolicy:
    """Transient errors are retried on the same route with capped exponential backoff (or
    the vendor's Retry-After); 400-class errors are never retried nor rerouted."""

    retries: int = 2  # further attempts on one route after a transient error
    backoff: float = 0.5  # first wait; doubles each attempt, up to max_wait
    max_wait: float = 8.0  # a longer Retry-After moves on to the next route instead
    budget: float = 20.0  # seconds of waiting one call may spend on retries, all routes together


class _Discovered(NamedTuple):
    """A vendor's own model list, kept until ``expires`` (time.monotonic())."""

    expires: float
    models: list[str]


class VendorManager:
    """Routes normalised requests to vendor handlers (factory + strategy)."""

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        pool: HandlerPool | None = None,
        policy: RetryPolicy | None = None,
        discovery_ttl: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
        observer: VendorObserver | None = None,
        balancer: Balancer | None = None,
        cache: ResponseCache | None = None,
        tracer: VendorTracer | None = None,
    ):
        self.catalog = catalog or Catalog()
        self.pool = pool or HandlerPool()
        self.policy = policy or RetryPolicy()
        self.discovery_ttl = discovery_ttl
        self.sleep = sleep  # injectable: tests record the waits
        self.observer = observer or VendorObserver()
        self.balancer = balancer or Balancer()
        self.cache = cache or ResponseCache()
        self.tracer = tracer  # None: no spans (tracing off), and nothing added to a call
        self._discovered: dict[str, _Discovered] = {}
        self._lock = threading.Lock()

    def load(self, catalog: Catalog) -> None:
        """Switch to a new catalog; handlers of changed credentials are closed."""
        self.catalog = catalog
        self.pool.retain(catalog.credentials.values())
        with self._lock:
            self._discovered.clear()

    # -- models -------------------------------------------------------------------------------

    def discover(self, vendor: str) -> list[str]:
        """The vendor's own model list, cached; an unreachable vendor lists nothing for a while."""
        now = time.monotonic()
        cached = self._discovered.get(vendor)
        if cached and cached.expires > now:
            return cached.models
        credential = self.catalog.credentials[vendor]
        try:
            models, ttl = self.pool.get(credential).models(), self.discovery_ttl
        except VendorError as exc:
            log.warning("could not list models of vendor %s: %s", vendor, exc.message)
            models, ttl = [], min(60.0, self.discovery_ttl)
        with self._lock:
            self._discovered[vendor] = _Discovered(now + ttl, models)
        return models

    def models(self, role: str | None) -> list[ModelInfo]:
        """Every model name ``role`` may use: admin routes, then each vendor's own models."""
        listed = self.catalog.explicit_models(role)
        restricted = self.catalog.restricted_names()
        for vendor in sorted(self.catalog.credentials):
            for model in self.discover(vendor):
                name = f"{vendor}/{model}"
                if name not in restricted and self.catalog.role_may_use(role, name):
                    listed.append(ModelInfo(name, vendor, model))
        return listed

    def routes_for(self, name: str, role: str | None) -> list[Route]:
        """The routes for ``name``; a bare upstream id resolves through the vendors' own model
        lists (``discover``) when exactly one vendor offers it."""
        return self.catalog.routes_for(name, role, offered=self.discover)

    # -- calls --------------------------------------------------------------------------------

    def complete(self, name: str, request: ChatRequest, role: str | None, *,
                 cache_scope: str | None = None,
                 cache_ttl: int | None = None) -> tuple[Result, Route]:
        """Complete on the first route that answers; on a route that caches (or any, with the
        caller's own ``cache_ttl``), a kept answer for ``cache_scope`` (the caller) comes back
        with no vendor call (``cached``)."""
        if (hit := self._cached(name, role, request, cache_scope, cache_ttl)) is not None:
            route, entry = hit
            return result_of(entry, route.upstream_model), route
        timed = self._traced("chat", _timed("complete", self.observer))

        def call(handler, req, route):
            result = timed(handler, req, route)
            self.cache.keep(route, req, cache_scope, entry_of(result), cache_ttl)
            return result

        return self._attempt(name, role, call, request)

    def _cached(self, name, role, request, scope, ttl=None) -> tuple[Route, dict] | None:
        """A kept answer to ``request`` on one of the name's routes that cache, looked up
        before any balancing: a hit calls no vendor, so it is neither in flight, timed, nor
        taken as a cooling deployment's probe."""
        for route in self.routes_for(name, role):
            if route.cache_ttl or ttl:
                routed = replace(request, model=route.upstream_model)
                if (entry := self.cache.lookup(route, routed, scope, ttl)) is not None:
                    return route, entry
        return None

    def embed(self, name: str, request: EmbeddingRequest,
              role: str | None) -> tuple[Embeddings, Route]:
        """Embeddings from the first route that answers (retries and fallbacks as for
        ``complete``; a vendor kind without embeddings refuses, so no other route is tried)."""

        return self._attempt(name, role, self._traced("embeddings", _timed("embed", self.observer)),
                             request)

    def count_tokens(self, name: str, request: ChatRequest,
                     role: str | None) -> tuple[int | None, Route]:
        """The input tokens as the first route's vendor counts them (None: it cannot)."""
        return self._attempt(name, role, lambda handler, req, route: handler.count_tokens(req),
                             request)

    def open_stream(
        self, name: str, request: ChatRequest, role: str | None, *,
        cache_scope: str | None = None, cache_ttl: int | None = None,
    ) -> tuple[Route, Iterator[Delta]]:
        """Start a stream on the first route that sends a first delta.

        Retries and fallbacks happen only before that first delta; closing the returned
        iterator closes the upstream request. On a route that caches, a kept answer for
        ``cache_scope`` is replayed as a stream (its ``cached`` is true), and a stream that
        finishes whole is kept.
        """

        if (hit := self._cached(name, role, request, cache_scope, cache_ttl)) is not None:
            route, entry = hit
            return route, Replay(entry)

        deltas, route = self._attempt(
            name, role, self._traced("chat", _started("stream", self.observer)), request)
        if route.cache_ttl or cache_ttl:
            routed = replace(request, model=route.upstream_model)
            deltas = Recording(deltas, lambda entry: self.cache.keep(route, routed, cache_scope,
                                                                     entry, cache_ttl))
        return route, deltas

    # -- the Responses API, spoken natively ------------------------------------------------------

    def speaks_responses(self, name: str, role: str | None) -> bool:
        """Whether every route of ``name`` goes to a vendor kind that speaks the Responses API
        (then a Responses call can go to each as the client sent it; else it is translated)."""
        try:
            routes = self.routes_for(name, role)
        except UnknownModelError:
            return False
        return bool(routes) and all(r.credential.kind in RESPONSES_KINDS for r in routes)

    def respond(self, name: str, call: ResponsesCall,
                role: str | None) -> tuple[dict, Route]:
        """The vendor's response object from the first route that answers (retries and
        fallbacks as for ``complete``)."""
        return self._attempt(name, role, self._traced("chat", _timed("respond", self.observer)),
                             call)

    def open_response_stream(self, name: str, call: ResponsesCall,
                             role: str | None) -> tuple[Route, Iterator[ResponseEvent]]:
        """The vendor's events from the first route that sends a first one (retries and
        fallbacks before it, as for ``open_stream``)."""

        events, route = self._attempt(
            name, role, self._traced("chat", _started("respond_stream", self.observer)), call)
        return route, events

    def _traced(self, operation: str, call):
        """``call`` in a client span per attempt when the app traces, else ``call`` itself."""
        return call if self.tracer is None else self.tracer.traced(operation, call)

    def _attempt(self, name, role, call, request):
        attempts = self.balancer.order(self.routes_for(name, role))
        last_error: VendorError | None = None
        waited = 0.0
        for index, (route, probe) in enumerate((a.route, a.probe) for a in attempts):
            if index:
                self.observer.fallback(attempts[index - 1].route.credential.name)
            handler = self.pool.get(route.credential)
            routed = replace(request, model=route.upstream_model)
            for attempt in range(self.policy.retries + 1):
                try:
                    result = self._balanced(call, handler, routed, route)
                except VendorError as exc:
                    last_error = exc
                    self.observer.error(route.credential.name, error_kind(exc))
                    if isinstance(exc, VendorBadRequest) and not isinstance(
                        exc, VendorModelNotFound
                    ):
                        raise  # the request itself is wrong: no other route will like it
                    cooled = exc.retryable and self.balancer.state.failed(
                        route.label, error_kind(exc), probe=probe)
                    if cooled:
                        log.warning("route %s cooled down after %s", route.label,
                                    type(exc).__name__)
                        self.observer.cooldown(route.credential.name)
                    wait = None if cooled else self._wait(exc, attempt)
                    if wait is not None and waited + wait > self.policy.budget:
                        wait = None  # the retry budget is spent: only other routes are left
                    log.info("route %s failed (%s); %s", route.label, type(exc).__name__,
                             "retrying" if wait is not None else "next route")
                    if wait is None:
                        break
                    self.observer.retry(route.credential.name)
                    self.sleep(wait)
                    waited += wait
                else:
                    if probe:
                        self.balancer.state.recovered(route.label)
                    return result, route
        assert last_error is not None
        raise last_error

    def _balanced(self, call, handler, request, route):
        """``call`` on ``route``, counted in flight and timed when its strategy needs that (a
        stream stays in flight until it is closed)."""
        state, label = self.balancer.state, route.label
        if route.strategy == "least_busy":
            state.started(label)
        started = time.perf_counter()
        try:
            result = call(handler, request, route)
        except BaseException:
            if route.strategy == "least_busy":
                state.finished(label)
            raise
        if route.strategy == "lowest_latency":  # a stream's first token, or a whole call
            state.observe_latency(label, time.perf_counter() - started)
        if route.strategy == "least_busy":
            if isinstance(result, _Resumed):
                result.on_close = lambda: state.finished(label)
            else:
                state.finished(label)
        return result

    def _wait(self, exc: VendorError, attempt: int) -> float | None:
        """Seconds to wait before retrying the same route, or None to move on."""
        if not exc.retryable or attempt >= self.policy.retries:
            return None
        if exc.retry_after is None:
            return min(self.policy.backoff * 2**attempt, self.policy.max_wait)
        return exc.retry_after if exc.retry_after <= self.policy.max_wait else None


def _started(method: str, observer: VendorObserver):
    """A call of the handler's streaming ``method`` that returns once its first item is in
    (until then a retry or a fallback is still possible), that first wait going to
    ``observer``; the rest of the stream follows the returned iterator."""

    def start(handler, req, route):
        started = time.perf_counter()
        upstream = getattr(handler, method)(req)
        try:
            first = next(upstream)
        except StopIteration:
            raise VendorUnavailable("the vendor sent an empty stream") from None
        observer.first_token(route.credential.name, route.upstream_model,
                             time.perf_counter() - started)
        return _Resumed(first, upstream, route.credential.name, observer)

    return start


def _timed(method: str, observer: VendorObserver):
    """A call of the handler's ``method`` whose upstream latency goes to ``observer``."""

    def call(handler, req, route):
        started = time.perf_counter()
        result = getattr(handler, method)(req)
        observer.upstream(route.credential.name, route.upstream_model,
                          time.perf_counter() - started)
        return result

    return call


class _Resumed:
    """The upstream deltas with the already-read first one put back in front.

    A class rather than a generator: ``close()`` must close the upstream even when iteration
    never started (a generator's ``finally`` would not run then). ``on_close`` runs once,
    when the stream ends or is closed; so does ending ``trace``, the call's span when the app
    traces (app/vendors/tracing.py), which sees each delta.
    """

    def __init__(self, first: Delta, upstream: Iterator[Delta], vendor: str,
                 observer: VendorObserver):
        self._first: Delta | None = first
        self._upstream = upstream
        self._vendor = vendor
        self._observer = observer
        self.on_close: Callable[[], None] | None = None
        self.trace: StreamSpan | None = None

    def _ended(self, error: VendorError | None = None) -> None:
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()
        if self.trace is not None:
            self.trace.end(error)

    def __iter__(self) -> _Resumed:
        return self

    def __next__(self) -> Delta:
        if self._first is not None:
            delta, self._first = self._first, None
        else:
            try:
                delta = next(self._upstream)
            except StopIteration:
                self._ended()
                raise
            except VendorError as exc:  # cut short, or silent too long, after the first delta
                self._ended(exc)
                self._observer.error(self._vendor, error_kind(exc))
                raise
        if self.trace is not None:
            self.trace.saw(delta)
        return delta

    def close(self) -> None:
        self._first = None
        self._ended()
        self._upstream.close()
