"""The routing catalog: plain data the vendor manager routes from (no database in here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from app.vendors.errors import UnknownModelError
from app.vendors.types import Credential, Usage


@dataclass(frozen=True, slots=True)
class Route:
    """A public model name served by one credential's upstream model."""

    public_name: str
    credential: Credential
    upstream_model: str
    roles: frozenset[str] | None = None  # None: every role
    fallback_group: str | None = None
    priority: int = 0
    input_price: Decimal = Decimal(0)  # per million tokens
    output_price: Decimal = Decimal(0)
    # Prompt-cache reads and writes; None charges those tokens at the input price.
    cache_read_price: Decimal | None = None
    cache_write_price: Decimal | None = None
    capabilities: frozenset[str] = frozenset()  # "embeddings": an embedding model
    weight: int = 1  # its share of the name's calls under the ``weighted`` strategy
    strategy: str = "weighted"  # how the name's deployments are ordered (balancing.STRATEGIES)
    # Seconds an answer is kept in the response cache (None: not cached), and whether every
    # caller shares the cached answers (False: each user has their own).
    cache_ttl: int | None = None
    cache_shared: bool = False
    health_check: bool = False  # probed at an interval (health_checks.py)

    @property
    def label(self) -> str:
        return f"{self.credential.name}/{self.upstream_model}"

    def allows(self, role: str | None) -> bool:
        return self.roles is None or role in self.roles

    def cost(self, usage: Usage) -> Decimal:
        """What a call's tokens cost: cache reads and writes (counted within its input
        tokens, as OpenAI's ``cached_tokens`` are within ``prompt_tokens``) at their own
        prices, the rest of the input at the input price, and the output."""
        cached = usage.cache_read_tokens + usage.cache_write_tokens
        read_price = self.input_price if self.cache_read_price is None else self.cache_read_price
        write_price = (self.input_price if self.cache_write_price is None
                       else self.cache_write_price)
        return (self.input_price * max(usage.input_tokens - cached, 0)
                + read_price * usage.cache_read_tokens
                + write_price * usage.cache_write_tokens
                + self.output_price * usage.output_tokens) / 1_000_000


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    vendor: str
    upstream_model: str
    embeddings: bool = False  # an embedding model (marked on its route), not a chat model


class AmbiguousModelError(UnknownModelError):
    """A bare upstream model id that more than one vendor offers: the client must choose."""

    def __init__(self, model: str, candidates: list[str]):
        super().__init__(model)
        self.candidates = candidates
        self.args = (f"The model {model!r} is offered by more than one vendor; name one of "
                     f"them: {', '.join(candidates)}.",)


@dataclass(frozen=True)
class Catalog:
    """Credentials by vendor name, the admin's explicit routes and each role's model list.

    ``role_models`` maps a role to the public names it may use (``vendor/*`` stands for every
    model of a vendor); a role missing from it may use every model.
    """

    credentials: dict[str, Credential] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    role_models: dict[str, frozenset[str]] = field(default_factory=dict)
    # Prices of an implicit ``vendor/model`` route: (vendor kind, upstream model) -> Route
    # price fields (the services' price catalog; None: such routes cost nothing).
    price_for: Callable[[str, str], dict] | None = field(default=None, compare=False)

    def role_may_use(self, role: str | None, name: str) -> bool:
        allowed = self.role_models.get(role) if role is not None else None
        if allowed is None:
            return True
        vendor, _, _ = name.partition("/")
        return name in allowed or f"{vendor}/*" in allowed

    def routes_for(self, name: str, role: str | None,
                   offered: Callable[[str], list[str]] | None = None) -> list[Route]:
        """Routes to try for ``name``, in order: the named ones, then their fallback group.

        A name no route serves and that is not ``vendor/model`` of a known vendor may be a bare
        upstream id (``gpt-4o-mini``: some SDKs and agents strip the prefix); with ``offered``
        (a vendor's own model list) it resolves when exactly one vendor offers it.
        """
        if offered is not None and not self._served(name):
            resolved = self._bare(name, role, offered)
            if resolved is not None:
                return self.routes_for(resolved, role)
        if not self.role_may_use(role, name):
            raise UnknownModelError(name)
        named = [r for r in self.routes if r.public_name == name]
        if named:
            allowed = sorted((r for r in named if r.allows(role)), key=lambda r: r.priority)
            if not allowed:
                raise UnknownModelError(name)
            groups = {r.fallback_group for r in allowed if r.fallback_group}
            fallbacks = sorted(
                (r for r in self.routes
                 if r.fallback_group in groups and r not in allowed and r.allows(role)
                 and self.role_may_use(role, r.public_name)),
                key=lambda r: r.priority,
            )
            return allowed + fallbacks
        vendor, _, model = name.partition("/")
        credential = self.credentials.get(vendor)
        if credential is None or not model:
            raise UnknownModelError(name)
        prices = self.price_for(credential.kind, model) if self.price_for else {}
        return [Route(public_name=name, credential=credential, upstream_model=model, **prices)]

    def explicit_models(self, role: str | None) -> list[ModelInfo]:
        seen: dict[str, ModelInfo] = {}
        for route in sorted(self.routes, key=lambda r: r.priority):
            if (route.allows(role) and route.public_name not in seen
                    and self.role_may_use(role, route.public_name)):
                seen[route.public_name] = ModelInfo(
                    route.public_name, route.credential.name, route.upstream_model,
                    embeddings="embeddings" in route.capabilities)
        return list(seen.values())

    def restricted_names(self) -> set[str]:
        return {r.public_name for r in self.routes}

    def _served(self, name: str) -> bool:
        """A route has this public name, or it is ``vendor/model`` of a known vendor (or it
        cannot be an upstream id: empty, or an empty part around a slash)."""
        vendor, _, model = name.partition("/")
        if not name or name.startswith("/") or name.endswith("/"):
            return True  # not a model id at all: nothing to look up
        return bool(model and vendor in self.credentials) or any(
            r.public_name == name for r in self.routes)

    def _bare(self, name: str, role: str | None,
              offered: Callable[[str], list[str]]) -> str | None:
        """The one public name the role may use that serves upstream model ``name``: an
        explicit route's (lowest priority first), else ``vendor/name`` of the one vendor that
        lists it; None when nothing offers it; AmbiguousModelError when several vendors do."""
        by_vendor: dict[str, list[str]] = {}
        for route in sorted(self.routes, key=lambda r: (r.priority, r.public_name)):
            if (route.upstream_model == name and route.allows(role)
                    and self.role_may_use(role, route.public_name)):
                names = by_vendor.setdefault(route.credential.name, [])
                if route.public_name not in names:
                    names.append(route.public_name)
        restricted = self.restricted_names()
        for vendor in sorted(self.credentials):
            direct = f"{vendor}/{name}"
            if (vendor not in by_vendor and direct not in restricted
                    and self.role_may_use(role, direct) and name in offered(vendor)):
                by_vendor[vendor] = [direct]
        if len(by_vendor) > 1:
            raise AmbiguousModelError(name, [n for names in by_vendor.values() for n in names])
        return next(iter(by_vendor.values()))[0] if by_vendor else None
