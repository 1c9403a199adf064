"""``/api/v1/admin/vendors``: vendor credentials by name — list (environment vendors flagged
read-only), add, read, update or rotate the key, delete, and test (the vendor's model list).

A key is accepted, stored encrypted and never answered back: responses carry its mask only.
Base URLs are checked by the service (no cloud-metadata or link-local address, http(s) only).
"""

from __future__ import annotations

from app.api import rest
from app.api.admin.shared import actor, not_found, refused
from app.api.errors import ApiError
from app.api.schemas.admin import VendorCreate, VendorModels, VendorOut, VendorUpdate
from app.api.schemas.rest import PageMeta
from app.models import VendorCredential
from app.services import vendor_credentials as credentials

bp = rest.admin_blueprint("rest_admin_vendors", __name__)


def view_of(name: str) -> VendorOut:
    view = next((v for v in credentials.listing() if v.name == name), None)
    if view is None:
        raise not_found("vendor")
    return VendorOut.model_validate(view)


def stored_or_error(name: str) -> VendorCredential:
    """The stored credential; an environment vendor is read-only (409), another name 404."""
    row = credentials.find_named(name)
    if row is None or row.from_environment:
        view_of(name)  # 404 when there is no such vendor at all
        raise ApiError(409, f"{name!r} is configured from the environment; change it there.",
                       kind="conflict")
    return row


@bp.get("/vendors")
def index():
    """Environment vendors (read-only) first, then the stored ones; keys as masks only."""
    found = [VendorOut.model_validate(v) for v in credentials.listing()]
    return rest.listing(found, PageMeta(page=1, per_page=max(len(found), 1), total=len(found),
                                        has_more=False))


@bp.post("/vendors")
def create():
    body = rest.parse_body(VendorCreate)
    try:
        row = credentials.add(actor(), name=body.name, kind=body.kind, base_url=body.base_url,
                              api_key=body.api_key, enabled=body.enabled,
                              settings=body.settings)
    except credentials.CredentialError as exc:
        raise refused(exc) from None
    return rest.data(view_of(row.name), 201)


@bp.get("/vendors/<name>")
def show(name: str):
    return rest.data(view_of(name))


@bp.patch("/vendors/<name>")
def update(name: str):
    """Rename, move (base_url), enable or disable, change declared fields (``settings``);
    ``api_key`` replaces the stored key."""
    row = stored_or_error(name)
    body = rest.parse_body(VendorUpdate)
    sent = body.model_fields_set
    try:
        if sent & {"name", "base_url", "enabled", "settings"}:
            credentials.update(
                actor(), row, kind=row.kind,
                name=body.name if body.name is not None else row.name,
                base_url=body.base_url if "base_url" in sent else row.base_url,
                enabled=body.enabled if body.enabled is not None else row.enabled,
                settings=body.settings)
        if body.api_key is not None:
            credentials.rotate_key(actor(), row, body.api_key)
    except credentials.CredentialError as exc:
        raise refused(exc) from None
    return rest.data(view_of(row.name))


@bp.delete("/vendors/<name>")
def delete(name: str):
    """Delete the stored vendor and its model routes."""
    credentials.delete(actor(), stored_or_error(name))
    return rest.no_content()


@bp.post("/vendors/<name>/test")
def test_connection(name: str):
    """Ask the vendor for its model list now; a vendor failure is a 502 without its body."""
    view_of(name)
    try:
        models = credentials.list_models(name)
    except credentials.CredentialError as exc:
        raise refused(exc) from None
    return rest.data(VendorModels(name=name, models=models))
