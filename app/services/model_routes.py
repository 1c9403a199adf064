"""Model routes: public names (aliases or ``vendor/model``) pointed at a credential's model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.models.vendors import ROUTE_CAPABILITIES
from app.repositories import accounts as accounts_repo
from app.repositories import vendors as repo
from app.services import audit
from app.services.actor import Actor
from app.services.vendor_credentials import list_models
from app.services.vendors import invalidate_catalog, vendor_manager
from app.vendors.balancing import DEFAULT_STRATEGY, STRATEGIES

PUBLIC_NAME = re.compile(r"^[A-Za-z0-9][\w.:@+/-]{0,199}$")
GROUP = re.compile(r"^[\w.:@+-]{1,64}$")
MAX_PRICE = Decimal("99999999")
MAX_WEIGHT = 1000
MAX_CACHE_TTL = 7 * 24 * 3600  # a week: answers kept longer go stale


class RouteError(ValueError):
    """A route change that breaks a rule; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class RouteSpec:
    public_name: str
    credential_id: int
    upstream_model: str
    enabled: bool = True
    role_ids: list[int] = field(default_factory=list)  # none: every role
    input_price: Decimal = Decimal(0)
    output_price: Decimal = Decimal(0)
    # Prompt-cache reads and writes; None charges those tokens at the input price.
    cache_read_price: Decimal | None = None
    cache_write_price: Decimal | None = None
    fallback_group: str | None = None
    priority: int = 0
    capabilities: list[str] = field(default_factory=list)  # of ROUTE_CAPABILITIES
    weight: int = 1  # share of the name's calls among its deployments (``weighted``)
    strategy: str = DEFAULT_STRATEGY  # of balancing.STRATEGIES
    # Seconds answers are kept in the response cache (None: not cached); shared by every
    # caller, or each user's own.
    response_cache_ttl: int | None = None
    response_cache_shared: bool = False
    health_check: bool = False  # probed every PARLOR_HEALTH_CHECK_INTERVAL seconds


@dataclass(frozen=True)
class Health:
    """A route's deployment state (app/vendors/balancing.py), as the admin screens show it."""

    state: str  # healthy, cooling or half-open
    cooldown_seconds_left: float
    last_error: str | None
    in_flight: int
    # The last active health check (PARLOR_HEALTH_CHECK_INTERVAL): "ok" or the error kind, and
    # how long ago; None: never checked.
    last_check: str | None = None
    last_check_seconds_ago: float | None = None


def health(routes: list[ModelRoute]) -> dict[int, Health]:
    """Each route's state by id, read at once (one Redis round trip when it is shared)."""
    state = vendor_manager().balancer.state
    labels = {route.id: f"{route.credential.name}/{route.upstream_model}" for route in routes}
    statuses, now = state.statuses(set(labels.values())), state.clock()
    found = {}
    for route_id, label in labels.items():
        status = statuses[label]
        left = max((status.cooling_until or now) - now, 0.0)
        ago = None if status.checked_at is None else round(max(now - status.checked_at, 0.0), 1)
        found[route_id] = Health(state=status.state(now), cooldown_seconds_left=round(left, 1),
                                 last_error=status.last_error, in_flight=status.in_flight,
                                 last_check=status.check_result, last_check_seconds_ago=ago)
    return found


def all_routes() -> list[ModelRoute]:
    return repo.all_routes()


def find(route_id: int) -> ModelRoute | None:
    """The route with this id, or None."""
    return repo.route_by_id(route_id)


def create(actor: Actor, spec: RouteSpec) -> ModelRoute:
    spec = _checked(spec)
    route = ModelRoute()
    repo.add(route)
    _apply(route, spec)
    _record(actor, "route.created", route)
    return _commit(route)


def update(actor: Actor, route: ModelRoute, spec: RouteSpec) -> ModelRoute:
    _apply(route, _checked(spec))
    _record(actor, "route.updated", route)
    return _commit(route)


def delete(actor: Actor, route: ModelRoute) -> None:
    _record(actor, "route.deleted", route)
    repo.delete(route)
    db.session.commit()
    invalidate_catalog()


def import_models(actor: Actor, credential: VendorCredential) -> int:
    """Add a ``vendor/model`` route for each model the vendor lists and no route serves yet.

    Raises VendorError when the vendor cannot be reached.
    """
    known = repo.route_names_of(credential.id)
    added = [model for model in list_models(credential.name) if model not in known]
    for model in added:
        repo.add(ModelRoute(public_name=f"{credential.name}/{model}"[:200], credential=credential,
                            upstream_model=model[:200], enabled=True, priority=0))
    audit.record("route.imported", actor_id=actor.user_id, ip=actor.ip,
                 target=f"vendor:{credential.name}", count=len(added))
    db.session.commit()
    invalidate_catalog()
    return len(added)


def _checked(spec: RouteSpec) -> RouteSpec:
    spec.public_name = (spec.public_name or "").strip()
    if not PUBLIC_NAME.match(spec.public_name):
        raise RouteError("Use letters, digits and . _ - : @ + / (up to 200).", "public_name")
    spec.upstream_model = (spec.upstream_model or "").strip()
    if not spec.upstream_model or len(spec.upstream_model) > 200:
        raise RouteError("Enter the vendor's model name.", "upstream_model")
    if repo.credential_by_id(spec.credential_id) is None:
        raise RouteError("Choose a vendor.", "credential_id")
    for name in ("input_price", "output_price"):
        price = getattr(spec, name)
        if price is None or not Decimal(0) <= price <= MAX_PRICE:
            raise RouteError("A price is a number of dollars per million tokens, 0 or more.",
                             name)
    for name in ("cache_read_price", "cache_write_price"):
        price = getattr(spec, name)
        if price is not None and not Decimal(0) <= price <= MAX_PRICE:
            raise RouteError("A cache price is a number of dollars per million tokens, 0 or "
                             "more (or empty: the input price).", name)
    spec.fallback_group = (spec.fallback_group or "").strip() or None
    if spec.fallback_group and not GROUP.match(spec.fallback_group):
        raise RouteError("Use up to 64 letters, digits and . _ - : @ +.", "fallback_group")
    if not -1000 <= spec.priority <= 1000:
        raise RouteError("Priority is between -1000 and 1000 (lower goes first).", "priority")
    if not 1 <= (spec.weight or 0) <= MAX_WEIGHT:
        raise RouteError(f"A weight is a whole number from 1 to {MAX_WEIGHT}.", "weight")
    if spec.strategy not in STRATEGIES:
        raise RouteError(f"Balance by one of: {', '.join(STRATEGIES)}.", "strategy")
    if spec.response_cache_ttl is not None and not (
            1 <= spec.response_cache_ttl <= MAX_CACHE_TTL):
        raise RouteError(f"Keep answers for 1 to {MAX_CACHE_TTL:,} seconds (empty: do not "
                         "cache).", "response_cache_ttl")
    unknown = sorted(set(spec.capabilities or ()) - set(ROUTE_CAPABILITIES))
    if unknown:
        raise RouteError(f"Unknown capability {unknown[0]!r}; a route can be marked "
                         f"{', '.join(ROUTE_CAPABILITIES)}.", "capabilities")
    spec.capabilities = [c for c in ROUTE_CAPABILITIES if c in (spec.capabilities or ())]
    return spec


def _apply(route: ModelRoute, spec: RouteSpec) -> None:
    with db.session.no_autoflush:  # the route is complete only at the end
        _assign(route, spec)


def _assign(route: ModelRoute, spec: RouteSpec) -> None:
    route.public_name, route.upstream_model = spec.public_name, spec.upstream_model
    route.credential = repo.credential_by_id(spec.credential_id)
    route.enabled = spec.enabled
    route.input_price, route.output_price = spec.input_price, spec.output_price
    route.cache_read_price, route.cache_write_price = (spec.cache_read_price,
                                                       spec.cache_write_price)
    route.fallback_group, route.priority = spec.fallback_group, spec.priority
    route.capabilities = list(spec.capabilities)
    route.weight, route.strategy = spec.weight, spec.strategy
    route.response_cache_ttl = spec.response_cache_ttl
    route.response_cache_shared = bool(spec.response_cache_shared)
    route.health_check = bool(spec.health_check)
    route.roles = [r for r in accounts_repo.all_roles() if r.id in set(spec.role_ids)]


def _commit(route: ModelRoute) -> ModelRoute:
    db.session.commit()
    invalidate_catalog()
    return route


def _record(actor: Actor, action: str, route: ModelRoute) -> None:
    audit.record(action, actor_id=actor.user_id, ip=actor.ip, target=f"route:{route.public_name}",
                 vendor=route.credential.name if route.credential else None,
                 upstream_model=route.upstream_model, enabled=route.enabled,
                 roles=sorted(r.name for r in route.roles),
                 input_price=str(route.input_price), output_price=str(route.output_price),
                 cache_read_price=_text(route.cache_read_price),
                 cache_write_price=_text(route.cache_write_price),
                 fallback_group=route.fallback_group, priority=route.priority,
                 capabilities=list(route.capabilities or ()), weight=route.weight,
                 strategy=route.strategy, response_cache_ttl=route.response_cache_ttl,
                 response_cache_shared=route.response_cache_shared,
                 health_check=route.health_check)


def _text(price: Decimal | None) -> str | None:
    return None if price is None else str(price)
