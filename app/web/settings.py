"""The user's own settings: display name, password and API keys."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from app.services import budgets, own_keys, profile
from app.services.accounts import AccountError
from app.web.forms import KeyForm, PasswordForm, ProfileForm

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.before_request
@login_required
def require_login():
    """Every signed-in user has settings."""


def _page(status: int = 200, new_secret: str | None = None, **forms):
    forms.setdefault("profile_form", ProfileForm(display_name=current_user.display_name))
    forms.setdefault("password_form", PasswordForm())
    forms.setdefault("key_form", KeyForm())
    keys = own_keys.list_keys(current_user)
    return render_template("auth/settings.html", keys=keys,
                           budget=budgets.status(current_user),
                           key_budgets=budgets.key_statuses(current_user, keys),
                           cost_budget=budgets.cost_status(current_user),
                           key_cost_budgets=budgets.key_cost_statuses(current_user, keys),
                           team=budgets.team_status(current_user),
                           new_secret=new_secret, **forms), status


@bp.get("/")
def show():
    return _page()


@bp.post("/profile")
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(400, profile_form=form)
    try:
        profile.rename(current_user, form.display_name.data)
    except AccountError as exc:
        form.display_name.errors = [str(exc)]
        return _page(400, profile_form=form)
    flash("Display name saved.")
    return redirect(url_for("settings.show"))


@bp.post("/password")
def change_password():
    form = PasswordForm()
    if not form.validate_on_submit():
        return _page(400, password_form=form)
    user = current_user._get_current_object()
    try:
        profile.change_password(user, form.current_password.data, form.new_password.data,
                                ip=request.remote_addr)
    except AccountError as exc:
        form.new_password.errors = [str(exc)]
        return _page(400, password_form=form)
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    login_user(user, remember=remember_cookie in request.cookies)  # this session goes on
    flash("Password changed. Your other sessions have been logged out.")
    return redirect(url_for("settings.show"))


@bp.post("/keys")
def create_key():
    form = KeyForm()
    if not form.validate_on_submit():
        return _page(400, key_form=form)
    try:
        _key, secret = own_keys.create(current_user, name=form.name.data or "")
    except own_keys.ScopeError as exc:
        form.name.errors = [str(exc)]
        return _page(403, key_form=form)
    html, status = _page(new_secret=secret, key_form=KeyForm(formdata=None))
    return html, status, {"Cache-Control": "no-store"}  # the only time the key is shown


@bp.post("/keys/<int:key_id>/revoke")
def revoke_key(key_id: int):
    try:
        key = own_keys.revoke(current_user, key_id)
    except own_keys.NoSuchKey:
        abort(404)
    flash(f"Key {key.prefix} revoked.")
    return redirect(url_for("settings.show"))
