"""Prices of known models from the ``genai-prices`` catalog (pydantic's, bundled with the
package: no network), for routes an admin has not priced.

A route is "not priced" when its input and output prices are 0 and it has no cache prices:
its calls are then costed at the catalog's input, output, cache-read and cache-write rates
(USD per million tokens; a tiered price counts at its base tier). An admin's own prices always
win. Only vendors whose prices the catalog holds are looked up (an OpenAI-compatible server
or the mock vendor costs nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import metadata

from app.repositories import vendors as vendors_repo

# Parlor's vendor kind -> the catalog's provider id.
PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "azure": "azure",
             "gemini": "google", "bedrock": "aws"}


@dataclass(frozen=True)
class Prices:
    """USD per million tokens; None: the catalog has no separate cache price."""

    input_price: Decimal
    output_price: Decimal
    cache_read_price: Decimal | None = None
    cache_write_price: Decimal | None = None

    def as_route_fields(self) -> dict:
        return {"input_price": self.input_price, "output_price": self.output_price,
                "cache_read_price": self.cache_read_price,
                "cache_write_price": self.cache_write_price}


def version() -> str:
    """The catalog's version: the installed genai-prices package's."""
    try:
        return metadata.version("genai-prices")
    except metadata.PackageNotFoundError:
        return "not installed"


def unpriced(input_price, output_price, cache_read_price=None, cache_write_price=None) -> bool:
    """Whether a route's prices are the defaults (an admin set none)."""
    return (not input_price and not output_price and cache_read_price is None
            and cache_write_price is None)


@lru_cache(maxsize=4096)
def lookup(kind: str, model: str) -> Prices | None:
    """The catalog's prices of ``model`` at the vendor kind's provider, or None."""
    provider = PROVIDERS.get(kind)
    if provider is None or not model:
        return None
    from genai_prices import data_snapshot  # loads the bundled catalog on first use

    try:
        _provider, info = data_snapshot.get_snapshot().find_provider_model(
            model, None, provider, None)
    except LookupError:
        return None
    prices = info.prices
    if not hasattr(prices, "input_mtok"):  # priced by conditions (dates, tiers of service)
        prices = getattr(prices[0], "prices", None) if isinstance(prices, list) else None
        if prices is None:
            return None
    return Prices(input_price=_base(prices.input_mtok) or Decimal(0),
                  output_price=_base(prices.output_mtok) or Decimal(0),
                  cache_read_price=_base(prices.cache_read_mtok),
                  cache_write_price=_base(getattr(prices, "cache_write_mtok", None)))


def _base(price) -> Decimal | None:
    if price is None:
        return None
    return Decimal(str(getattr(price, "base", price)))


def route_prices(kind: str, model: str) -> dict:
    """Route fields for an implicit ``vendor/model`` route: the catalog's prices, or none."""
    found = lookup(kind, model)
    return found.as_route_fields() if found else {}


@dataclass(frozen=True)
class RoutePrice:
    """How one model route is priced: by the admin, from the catalog, or not at all."""

    public_name: str
    vendor: str
    upstream_model: str
    source: str  # "admin", "catalog" or "none"
    prices: Prices | None


def route_pricing(routes) -> dict[int, RoutePrice]:
    """Each route's pricing (routes as the model-routes service lists them), by id."""
    found = {}
    for route in routes:
        kind = route.credential.kind
        if not unpriced(route.input_price, route.output_price, route.cache_read_price,
                        route.cache_write_price):
            source, prices = "admin", None
        else:
            prices = lookup(kind, route.upstream_model)
            source = "catalog" if prices else "none"
        found[route.id] = RoutePrice(route.public_name, route.credential.name,
                                     route.upstream_model, source, prices)
    return found


def unknown_routes() -> list[RoutePrice]:
    """Enabled routes with neither an admin's price nor a catalog price (they cost $0)."""
    pricing = route_pricing(vendors_repo.enabled_routes())
    return sorted((p for p in pricing.values() if p.source == "none"),
                  key=lambda p: p.public_name)
