"""Admin screen: model routes (public name -> vendor model), prices, roles, fallback groups."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from app.admin.access import actor, require_admin
from app.admin.forms import ActionForm, RouteForm, show_error
from app.services import model_routes, price_catalog, roles, vendor_credentials
from app.vendors import VendorError

bp = Blueprint("admin_models", __name__, url_prefix="/admin/models")
bp.before_request(require_admin)


def _form(route=None) -> RouteForm:
    form = RouteForm(obj=route) if route is not None else RouteForm()
    form.credential_id.choices = [(c.id, c.name) for c in vendor_credentials.route_targets()]
    form.role_ids.choices = [(r.id, r.name) for r in roles.all_roles()]
    if route is not None and not form.is_submitted():
        form.role_ids.data = [r.id for r in route.roles]
    return form


def _spec(form: RouteForm) -> model_routes.RouteSpec:
    return model_routes.RouteSpec(
        public_name=form.public_name.data or "", credential_id=form.credential_id.data or 0,
        upstream_model=form.upstream_model.data or "", enabled=form.enabled.data,
        role_ids=form.role_ids.data or [],
        input_price=form.input_price.data if form.input_price.data is not None else Decimal(0),
        output_price=form.output_price.data if form.output_price.data is not None else Decimal(0),
        cache_read_price=form.cache_read_price.data,  # empty: the input price
        cache_write_price=form.cache_write_price.data,
        fallback_group=form.fallback_group.data, priority=form.priority.data or 0,
        weight=form.weight.data or 1, strategy=form.strategy.data or "weighted",
        response_cache_ttl=form.response_cache_ttl.data or None,
        response_cache_shared=form.response_cache_shared.data,
        health_check=form.health_check.data,
        capabilities=form.capabilities.data or [])


def _list(form: RouteForm, status: int = 200):
    routes = model_routes.all_routes()
    return render_template("admin/models.html", routes=routes, form=form,
                           health=model_routes.health(routes),
                           credentials=vendor_credentials.route_targets(),
                           pricing=price_catalog.route_pricing(routes),
                           catalog_version=price_catalog.version(),
                           action_form=ActionForm()), status


def _route_or_404(route_id: int):
    return model_routes.find(route_id) or abort(404)


@bp.get("/")
def index():
    return _list(_form())


@bp.post("/")
def create():
    form = _form()
    if form.validate_on_submit():
        try:
            route = model_routes.create(actor(), _spec(form))
        except model_routes.RouteError as exc:
            show_error(form, exc)
        else:
            flash(f"Added the route {route.public_name}.")
            return redirect(url_for(".index"))
    return _list(form, 400)


@bp.get("/<int:route_id>")
def show(route_id: int):
    route = _route_or_404(route_id)
    return render_template("admin/model.html", route=route, form=_form(route),
                           action_form=ActionForm())


@bp.post("/<int:route_id>")
def update(route_id: int):
    route = _route_or_404(route_id)
    form = _form(route)
    if form.validate_on_submit():
        try:
            model_routes.update(actor(), route, _spec(form))
        except model_routes.RouteError as exc:
            show_error(form, exc)
        else:
            flash(f"Saved the route {route.public_name}.")
            return redirect(url_for(".index"))
    return render_template("admin/model.html", route=route, form=form,
                           action_form=ActionForm()), 400


@bp.post("/<int:route_id>/delete")
def delete(route_id: int):
    route = _route_or_404(route_id)
    if ActionForm().validate_on_submit():
        name = route.public_name
        model_routes.delete(actor(), route)
        flash(f"Deleted the route {name}.")
    return redirect(url_for(".index"))


@bp.post("/import/<int:credential_id>")
def import_models(credential_id: int):
    credential = vendor_credentials.find(credential_id) or abort(404)
    if ActionForm().validate_on_submit():
        try:
            added = model_routes.import_models(actor(), credential)
        except VendorError as exc:
            flash(f"Could not list the models of {credential.name}: {exc.message}")
        else:
            flash(f"Imported {added} model(s) from {credential.name}.")
    return redirect(url_for(".index"))
