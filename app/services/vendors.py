"""Builds the vendor catalog from the environment and the database and keeps it fresh."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from flask import Flask, current_app

from app import metrics, telemetry
from app.repositories import accounts as accounts_repo
from app.repositories import vendors as repo
from app.services import health_checks, price_catalog, vendor_fields
from app.services.encryption import secret_box
from app.vendors import KINDS, Catalog, Credential, RetryPolicy, Route, VendorManager
from app.vendors.balancing import (
    DEFAULT_STRATEGY,
    Balancer,
    CooldownPolicy,
    RedisRouteState,
    RouteState,
)
from app.vendors.response_cache import MemoryStore, RedisStore, ResponseCache
from config import vendor_variable


def vendor_timeouts(config) -> dict:
    """Credential fields for the connect, first-token, idle and total timeouts."""
    return {"timeout": config["PARLOR_VENDOR_TOTAL_TIMEOUT"],
            "connect_timeout": config["PARLOR_VENDOR_CONNECT_TIMEOUT"],
            "options": (("first_token_timeout", config["PARLOR_VENDOR_FIRST_TOKEN_TIMEOUT"]),
                        ("idle_timeout", config["PARLOR_VENDOR_IDLE_TIMEOUT"]))}


ENVIRONMENT = "VENDOR_ENVIRONMENT"  # in app.config: the vendor variables as they were at start


def _read_environment() -> dict[str, str | None]:
    """Every variable a vendor kind declares, as the environment has it now."""
    return {variable: vendor_variable(variable)
            for kind in KINDS.values() for variable in kind.environment_variables}


def environment_credentials(config) -> dict[str, Credential]:
    """Vendors configured by environment variables (read-only in the admin screens): each
    kind's declared variables (``VendorKind.environment``) create its credential."""
    timeouts = vendor_timeouts(config)
    found: dict[str, Credential] = {}
    if config["PARLOR_MOCK_VENDOR"]:
        found["mock"] = Credential(name="mock", kind="mock", read_only=True,
                                   options=(("delay_ms", config["PARLOR_MOCK_DELAY_MS"]),))
    environment = config.get(ENVIRONMENT) or _read_environment()
    for kind in KINDS.values():
        credential = kind.from_environment(
            lambda name: config.get(name) or environment.get(name))
        if credential is not None:
            found[credential.name] = replace(
                credential, timeout=timeouts["timeout"],
                connect_timeout=timeouts["connect_timeout"],
                options=timeouts["options"] + credential.options)
    return found


def build_catalog(config) -> Catalog:
    """Read credentials and routes once; the result is plain data the vendor manager keeps."""
    credentials = environment_credentials(config)
    box = secret_box()
    for row in repo.enabled_credentials():
        if row.name in credentials or row.from_environment:
            continue  # the environment wins over a stored credential of the same name
        timeouts = vendor_timeouts(config)
        credentials[row.name] = Credential(
            name=row.name, kind=row.kind, base_url=row.base_url,
            api_key=box.decrypt(row.encrypted_secret) if row.encrypted_secret else None,
            **timeouts | {"options": timeouts["options"] + vendor_fields.options(row, box)},
        )
    routes = tuple(
        Route(
            public_name=row.public_name,
            credential=credentials[row.credential.name],
            upstream_model=row.upstream_model,
            roles=frozenset(role.name for role in row.roles) or None,
            fallback_group=row.fallback_group,
            priority=row.priority,
            **_prices(row, credentials[row.credential.name].kind),
            capabilities=frozenset(row.capabilities or ()),
            weight=row.weight or 1,
            strategy=row.strategy or DEFAULT_STRATEGY,
            cache_ttl=row.response_cache_ttl or None,
            cache_shared=bool(row.response_cache_shared),
            health_check=bool(row.health_check),
        )
        for row in repo.enabled_routes()
        if row.credential.name in credentials
    )
    role_models = {role.name: frozenset(role.allowed_models)
                   for role in accounts_repo.all_roles() if role.allowed_models is not None}
    return Catalog(credentials=credentials, routes=routes, role_models=role_models,
                   price_for=price_catalog.route_prices)


def _prices(row, kind: str) -> dict:
    """A route's prices: the admin's, else (none set) the price catalog's for its model."""
    if price_catalog.unpriced(row.input_price, row.output_price, row.cache_read_price,
                              row.cache_write_price):
        found = price_catalog.lookup(kind, row.upstream_model)
        if found is not None:
            return found.as_route_fields()
    return {"input_price": row.input_price, "output_price": row.output_price,
            "cache_read_price": row.cache_read_price,
            "cache_write_price": row.cache_write_price}


def route_state(config) -> RouteState:
    """Where deployments' load, latency and cooldowns are kept: Redis when set (shared by
    every instance), else this process."""
    policy = CooldownPolicy(failures=config["PARLOR_COOLDOWN_FAILURES"],
                            window=config["PARLOR_COOLDOWN_WINDOW"],
                            cooldown=config["PARLOR_COOLDOWN_SECONDS"])
    if not config["REDIS_URL"]:
        return RouteState(policy)
    import redis

    client = redis.Redis.from_url(config["REDIS_URL"], socket_timeout=0.5,
                                  socket_connect_timeout=0.5)
    return RedisRouteState(client, policy, errors=(redis.RedisError,))


def response_cache(config) -> ResponseCache:
    """Where cached answers are kept: Redis when set (shared by every instance), else this
    process."""
    if not config["REDIS_URL"]:
        return ResponseCache(MemoryStore())
    import redis

    client = redis.Redis.from_url(config["REDIS_URL"], socket_timeout=0.5,
                                  socket_connect_timeout=0.5)
    return ResponseCache(RedisStore(client, errors=(redis.RedisError,)))


class VendorDirectory:
    """The process's vendor manager, with its catalog reloaded when stale or invalidated."""

    def __init__(self, config, tracer=None):
        self.config = config
        self.manager = VendorManager(
            policy=RetryPolicy(retries=config["PARLOR_VENDOR_RETRIES"],
                               budget=config["PARLOR_RETRY_BUDGET"]),
            observer=metrics.VendorMetrics(),
            balancer=Balancer(route_state(config)),
            cache=response_cache(config),
            tracer=tracer,
        )
        self.ttl = config["PARLOR_CATALOG_TTL"]
        self._expires = 0.0
        self._lock = threading.Lock()

    def current(self) -> VendorManager:
        if time.monotonic() >= self._expires:
            with self._lock:
                if time.monotonic() >= self._expires:
                    self.manager.load(build_catalog(self.config))
                    self._expires = time.monotonic() + self.ttl
        return self.manager

    def invalidate(self) -> None:
        self._expires = 0.0


def init_app(app: Flask) -> None:
    # Read once, when the app is made, like the rest of its configuration: a later change of
    # the process environment does not move this app's vendors.
    app.config.setdefault(ENVIRONMENT, _read_environment())
    app.extensions["parlor.vendors"] = VendorDirectory(app.config,
                                                       tracer=telemetry.vendor_tracer(app))
    health_checks.init_app(app)


def vendor_manager() -> VendorManager:
    """The vendor manager of this process, with a fresh catalog."""
    return current_app.extensions["parlor.vendors"].current()


def invalidate_catalog() -> None:
    current_app.extensions["parlor.vendors"].invalidate()
