"""Admin screen: vendor credentials (add, edit, rotate key, disable) and Test connection."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.admin.access import actor, require_admin
from app.admin.forms import ActionForm, RotateKeyForm, VendorForm, show_error
from app.services import vendor_credentials as credentials
from app.vendors import VendorError

bp = Blueprint("admin_vendors", __name__, url_prefix="/admin/vendors")
bp.before_request(require_admin)


def _row_or_404(credential_id: int):
    row = credentials.find(credential_id)
    if row is None or row.from_environment:  # environment vendors are read-only
        abort(404)
    return row


def _list(form: VendorForm, status: int = 200):
    return render_template("admin/vendors.html", vendors=credentials.listing(), form=form,
                           action_form=ActionForm()), status


@bp.get("/")
def index():
    return _list(VendorForm(formdata=None))


@bp.post("/")
def create():
    form = VendorForm()
    if form.validate_on_submit():
        try:
            row = credentials.add(actor(), name=form.name.data, kind=form.kind.data,
                                  base_url=form.base_url.data, api_key=form.api_key.data,
                                  enabled=form.enabled.data, settings=form.settings())
        except credentials.CredentialError as exc:
            show_error(form, exc)
        else:
            flash(f"Added the vendor {row.name}.")
            return redirect(url_for(".index"))
    return _list(form, 400)


def _detail(row, form=None, rotate_form=None, status=200):
    form = form or VendorForm(formdata=None, obj=row, data=dict(row.settings or {}))
    return render_template("admin/vendor.html", row=row, form=form,
                           rotate_form=rotate_form or RotateKeyForm(formdata=None),
                           action_form=ActionForm(),
                           view=next(v for v in credentials.listing() if v.id == row.id)), status


@bp.get("/<int:credential_id>")
def show(credential_id: int):
    return _detail(_row_or_404(credential_id))


@bp.post("/<int:credential_id>")
def update(credential_id: int):
    row = _row_or_404(credential_id)
    form = VendorForm()
    if form.validate_on_submit():
        try:
            credentials.update(actor(), row, name=form.name.data, kind=form.kind.data,
                               base_url=form.base_url.data, enabled=form.enabled.data,
                               settings=form.settings())
        except credentials.CredentialError as exc:
            show_error(form, exc)
        else:
            flash(f"Saved the vendor {row.name}.")
            return redirect(url_for(".show", credential_id=row.id))
    return _detail(row, form=form, status=400)


@bp.post("/<int:credential_id>/key")
def rotate_key(credential_id: int):
    row = _row_or_404(credential_id)
    form = RotateKeyForm()
    if form.validate_on_submit():
        try:
            credentials.rotate_key(actor(), row, form.api_key.data)
        except credentials.CredentialError as exc:
            show_error(form, exc, "api_key")
        else:
            flash(f"Replaced the key of {row.name}.")
            return redirect(url_for(".show", credential_id=row.id))
    return _detail(row, rotate_form=form, status=400)


@bp.post("/<int:credential_id>/enabled")
def set_enabled(credential_id: int):
    row = _row_or_404(credential_id)
    form = ActionForm()
    if form.validate_on_submit():
        enable = not row.enabled
        credentials.set_enabled(actor(), row, enable)
        flash(f"{row.name} is {'enabled' if enable else 'disabled'}.")
    return redirect(url_for(".show", credential_id=row.id))


@bp.post("/<int:credential_id>/delete")
def delete(credential_id: int):
    row = _row_or_404(credential_id)
    if ActionForm().validate_on_submit():
        name = row.name
        credentials.delete(actor(), row)
        flash(f"Deleted the vendor {name} and its model routes.")
    return redirect(url_for(".index"))


@bp.post("/test/<name>")
def test_connection(name: str):
    """The vendor's model list, as a fragment for htmx (or a page without JavaScript)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        models, error = credentials.list_models(name), None
    except VendorError as exc:
        models, error = [], exc.message
    except credentials.CredentialError as exc:
        models, error = [], str(exc)
    template = "admin/_vendor_test.html" if request.htmx else "admin/vendor_test.html"
    return render_template(template, name=name, models=models, error=error)
