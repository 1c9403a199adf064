"""Admin screen: roles, their permissions, the models they may use and their limits."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from app.admin.access import actor, require_admin
from app.admin.forms import ActionForm, RoleForm, show_error
from app.models.accounts import PERMISSIONS
from app.services import roles
from app.services.vendors import vendor_manager

bp = Blueprint("admin_roles", __name__, url_prefix="/admin/roles")
bp.before_request(require_admin)

MODEL_FIELD = {"allowed_models": "other_models"}
PERMISSION_LABELS = {"chat": "Chat in the browser", "api": "Use the API",
                     "own_keys": "Manage own API keys", "admin": "Admin screens"}


def _form(role=None) -> RoleForm:
    form = RoleForm(obj=role) if role is not None else RoleForm()
    form.permissions.choices = [(p, PERMISSION_LABELS[p]) for p in PERMISSIONS]
    known = [m.id for m in vendor_manager().models(None)]
    chosen = (role.allowed_models or []) if role is not None else []
    form.models.choices = [(name, name) for name in dict.fromkeys([*known, *chosen])]
    if role is not None and not form.is_submitted():
        form.restrict_models.data = role.allowed_models is not None
        form.models.data = [n for n in chosen if n in known]
        form.other_models.data = "\n".join(n for n in chosen if n not in known)
    elif role is None and not form.is_submitted():
        form.permissions.data = ["chat", "api", "own_keys"]
    return form


def _spec(form: RoleForm) -> roles.RoleSpec:
    models = None
    if form.restrict_models.data:
        models = [*(form.models.data or []), *roles.parse_models(form.other_models.data)]
    return roles.RoleSpec(
        name=form.name.data or "", description=form.description.data or "",
        permissions=form.permissions.data or [], allowed_models=models,
        rate_limit=form.rate_limit.data, monthly_token_budget=form.monthly_token_budget.data,
        monthly_cost_budget=form.monthly_cost_budget.data)


def _list(form: RoleForm, status: int = 200):
    return render_template("admin/roles.html", roles=roles.all_roles(), counts=roles.user_counts(),
                           form=form), status


def _role_or_404(role_id: int):
    return roles.find(role_id) or abort(404)


@bp.get("/")
def index():
    return _list(_form())


@bp.post("/")
def create():
    form = _form()
    if form.validate_on_submit():
        try:
            role = roles.create(actor(), _spec(form))
        except roles.RoleError as exc:
            show_error(form, exc, aliases=MODEL_FIELD)
        else:
            flash(f"Created the role {role.name}.")
            return redirect(url_for(".index"))
    return _list(form, 400)


def _detail(role, form, status=200):
    return render_template("admin/role.html", role=role, form=form, action_form=ActionForm(),
                           users=roles.user_counts().get(role.id, 0)), status


@bp.get("/<int:role_id>")
def show(role_id: int):
    role = _role_or_404(role_id)
    return _detail(role, _form(role))


@bp.post("/<int:role_id>")
def update(role_id: int):
    role = _role_or_404(role_id)
    form = _form(role)
    if form.validate_on_submit():
        try:
            roles.update(actor(), role, _spec(form))
        except roles.RoleError as exc:
            show_error(form, exc, aliases=MODEL_FIELD)
        else:
            flash(f"Saved the role {role.name}.")
            return redirect(url_for(".show", role_id=role.id))
    return _detail(role, form, 400)


@bp.post("/<int:role_id>/delete")
def delete(role_id: int):
    role = _role_or_404(role_id)
    if ActionForm().validate_on_submit():
        name = role.name
        try:
            roles.delete(actor(), role)
        except roles.RoleError as exc:
            flash(str(exc))
            return redirect(url_for(".show", role_id=role.id))
        flash(f"Deleted the role {name}.")
    return redirect(url_for(".index"))
