"""``/api/v1/admin/models``: model routes (public name -> a stored vendor's model) — list,
create, update, delete, and import every model a vendor lists — audited like /admin/models."""

from __future__ import annotations

from app.api import rest
from app.api.admin.shared import actor, not_found, refused
from app.api.errors import ApiError
from app.api.schemas.admin import (
    RouteCreate,
    RouteHealthOut,
    RouteImport,
    RouteImported,
    RouteOut,
    RouteUpdate,
)
from app.api.schemas.rest import PageMeta
from app.models import ModelRoute, VendorCredential
from app.services import model_routes, vendor_credentials

bp = rest.admin_blueprint("rest_admin_models", __name__)
# Fields a PATCH may set to null: no fallback group; a cache price back to the input price.
NULLABLE = ("fallback_group", "cache_read_price", "cache_write_price", "response_cache_ttl")


def route_out(route: ModelRoute, health: model_routes.Health | None = None) -> RouteOut:
    health = health or model_routes.health([route])[route.id]
    return RouteOut(id=route.id, public_name=route.public_name, vendor=route.credential.name,
                    upstream_model=route.upstream_model, enabled=route.enabled,
                    role_ids=sorted(r.id for r in route.roles),
                    roles=sorted(r.name for r in route.roles),
                    input_price=float(route.input_price or 0),
                    output_price=float(route.output_price or 0),
                    cache_read_price=_price(route.cache_read_price),
                    cache_write_price=_price(route.cache_write_price),
                    fallback_group=route.fallback_group, priority=route.priority,
                    capabilities=list(route.capabilities or ()), weight=route.weight,
                    strategy=route.strategy, response_cache_ttl=route.response_cache_ttl,
                    response_cache_shared=bool(route.response_cache_shared),
                    health_check=bool(route.health_check),
                    health=RouteHealthOut(**vars(health)),
                    created_at=route.created_at)


def _price(price) -> float | None:
    return None if price is None else float(price)


def route_or_404(route_id: int) -> ModelRoute:
    route = model_routes.find(route_id)
    if route is None:
        raise not_found("model route")
    return route


def stored_vendor(name: str) -> VendorCredential:
    row = vendor_credentials.find_named(name)
    if row is None:
        raise ApiError(400, f"vendor: there is no vendor named {name!r}.", param="vendor")
    return row


def spec_of(values: dict) -> model_routes.RouteSpec:
    values = dict(values)
    values["credential_id"] = stored_vendor(values.pop("vendor")).id
    return model_routes.RouteSpec(**values)


@bp.get("/models")
def index():
    routes = model_routes.all_routes()
    health = model_routes.health(routes)
    found = [route_out(r, health[r.id]) for r in routes]
    return rest.listing(found, PageMeta(page=1, per_page=max(len(found), 1), total=len(found),
                                        has_more=False))


@bp.post("/models")
def create():
    body = rest.parse_body(RouteCreate)
    try:
        route = model_routes.create(actor(), spec_of(body.model_dump()))
    except model_routes.RouteError as exc:
        raise refused(exc) from None
    return rest.data(route_out(route), 201)


@bp.get("/models/<int:route_id>")
def show(route_id: int):
    return rest.data(route_out(route_or_404(route_id)))


@bp.patch("/models/<int:route_id>")
def update(route_id: int):
    """Change only the fields sent."""
    route = route_or_404(route_id)
    body = rest.parse_body(RouteUpdate)
    current = {"public_name": route.public_name, "vendor": route.credential.name,
               "upstream_model": route.upstream_model, "enabled": route.enabled,
               "role_ids": [r.id for r in route.roles], "input_price": route.input_price,
               "output_price": route.output_price, "cache_read_price": route.cache_read_price,
               "cache_write_price": route.cache_write_price,
               "fallback_group": route.fallback_group,
               "priority": route.priority, "capabilities": list(route.capabilities or ()),
               "weight": route.weight, "strategy": route.strategy,
               "response_cache_ttl": route.response_cache_ttl,
               "response_cache_shared": bool(route.response_cache_shared),
               "health_check": bool(route.health_check)}
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    nulled = [n for n, v in sent.items() if v is None and n not in NULLABLE]
    if nulled:
        raise ApiError(400, f"{nulled[0]}: cannot be null.", param=nulled[0])
    try:
        model_routes.update(actor(), route, spec_of({**current, **sent}))
    except model_routes.RouteError as exc:
        raise refused(exc) from None
    return rest.data(route_out(route))


@bp.delete("/models/<int:route_id>")
def delete(route_id: int):
    model_routes.delete(actor(), route_or_404(route_id))
    return rest.no_content()


@bp.post("/models/import")
def import_models():
    """Add a ``vendor/model`` route for each model the vendor lists and no route serves yet."""
    body = rest.parse_body(RouteImport)
    vendor = stored_vendor(body.vendor)
    added = model_routes.import_models(actor(), vendor)
    return rest.data(RouteImported(vendor=vendor.name, added=added))

