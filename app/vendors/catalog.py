"""The routing catalog: plain data the vendor manager routes from (no database in here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.vendors.errors import UnknownModelError
from app.vendors.types import Credential


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

    @property
    def label(self) -> str:
        return f"{self.credential.name}/{self.upstream_model}"

    def allows(self, role: str | None) -> bool:
        return self.roles is None or role in self.roles

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        return (self.input_price * input_tokens + self.output_price * output_tokens) / 1_000_000


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    vendor: str
    upstream_model: str


@dataclass(frozen=True)
class Catalog:
    """Credentials by vendor name, the admin's explicit routes and each role's model list.

    ``role_models`` maps a role to the public names it may use (``vendor/*`` stands for every
    model of a vendor); a role missing from it may use every model.
    """

    credentials: dict[str, Credential] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    role_models: dict[str, frozenset[str]] = field(default_factory=dict)

    def role_may_use(self, role: str | None, name: str) -> bool:
        allowed = self.role_models.get(role) if role is not None else None
        if allowed is None:
            return True
        vendor, _, _ = name.partition("/")
        return name in allowed or f"{vendor}/*" in allowed

    def routes_for(self, name: str, role: str | None) -> list[Route]:
        """Routes to try for ``name``, in order: the named ones, then their fallback group."""
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
        return [Route(public_name=name, credential=credential, upstream_model=model)]

    def explicit_models(self, role: str | None) -> list[ModelInfo]:
        seen: dict[str, ModelInfo] = {}
        for route in sorted(self.routes, key=lambda r: r.priority):
            if (route.allows(role) and route.public_name not in seen
                    and self.role_may_use(role, route.public_name)):
                seen[route.public_name] = ModelInfo(
                    route.public_name, route.credential.name, route.upstream_model)
        return list(seen.values())

    def restricted_names(self) -> set[str]:
        return {r.public_name for r in self.routes}
