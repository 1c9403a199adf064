"""Admin screen: users (list and search, create, role, disable, password, delete)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.admin.access import actor, page_number, require_admin
from app.admin.forms import (
    ActionForm,
    BudgetForm,
    NewUserForm,
    PasswordResetForm,
    RoleChangeForm,
    show_error,
)
from app.services import admin_keys, admin_users, budgets, cost_budgets, roles
from app.services.accounts import AccountError

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")
bp.before_request(require_admin)


def _role_choices() -> list[tuple[str, str]]:
    return [(r.name, r.name) for r in roles.all_roles()]


def _user_or_404(user_id: int):
    return admin_users.find(user_id) or abort(404)


def _list(form: NewUserForm, status: int = 200):
    query = request.args.get("q", "").strip()[:255]
    users = admin_users.search(query, page_number())
    if request.htmx and not request.htmx.history_restore_request and request.method == "GET":
        return render_template("admin/_users_table.html", users=users, q=query)
    return render_template("admin/users.html", users=users, q=query, form=form,
                           action_form=ActionForm()), status


@bp.get("/")
def index():
    form = NewUserForm()
    form.role.choices = _role_choices()
    form.role.data = form.role.data or "member"
    return _list(form)


@bp.post("/")
def create():
    form = NewUserForm()
    form.role.choices = _role_choices()
    if form.validate_on_submit():
        try:
            user = admin_users.create(actor(), email=form.email.data, password=form.password.data,
                                      role=form.role.data, display_name=form.display_name.data)
        except AccountError as exc:
            show_error(form, exc, "email")
        else:
            flash(f"Created {user.email} ({user.role.name}).")
            return redirect(url_for(".show", user_id=user.id))
    return _list(form, 400)


def _detail(user, status=200, role_form=None, password_form=None, budget_form=None):
    role_form = role_form or RoleChangeForm(role=user.role.name)
    role_form.role.choices = _role_choices()
    budget_form = budget_form or BudgetForm(formdata=None,
                                            monthly_token_budget=user.monthly_token_budget,
                                            monthly_cost_budget=user.monthly_cost_budget)
    return render_template("admin/user.html", user=user, role_form=role_form,
                           password_form=password_form or PasswordResetForm(),
                           budget_form=budget_form, budget=budgets.status(user),
                           action_form=ActionForm(), keys=admin_keys.keys_of(user)), status


@bp.get("/<int:user_id>")
def show(user_id: int):
    return _detail(_user_or_404(user_id))


@bp.post("/<int:user_id>/role")
def change_role(user_id: int):
    user = _user_or_404(user_id)
    form = RoleChangeForm()
    form.role.choices = _role_choices()
    if form.validate_on_submit():
        try:
            admin_users.change_role(actor(), user, form.role.data)
        except AccountError as exc:
            show_error(form, exc, "role")
        else:
            flash(f"{user.email} now has the role {user.role.name}.")
            return redirect(url_for(".show", user_id=user.id))
    return _detail(user, 400, role_form=form)


@bp.post("/<int:user_id>/budget")
def set_budget(user_id: int):
    """Give the user their own monthly token budget; empty: their role's again."""
    user = _user_or_404(user_id)
    form = BudgetForm()
    if form.validate_on_submit():
        try:
            admin_users.set_budget(actor(), user, form.monthly_token_budget.data)
            cost_budgets.set_user_cost_budget(actor(), user, form.monthly_cost_budget.data)
        except AccountError as exc:
            show_error(form, exc, "monthly_token_budget")
        except cost_budgets.CostBudgetError as exc:
            show_error(form, exc, "monthly_cost_budget")
        else:
            tokens = user.monthly_token_budget
            flash(f"{user.email} now has the role's monthly budget." if tokens is None else
                  f"{user.email} now has a monthly budget of {tokens:,} tokens.")
            return redirect(url_for(".show", user_id=user.id))
    return _detail(user, 400, budget_form=form)


@bp.post("/<int:user_id>/enabled")
def set_enabled(user_id: int):
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        enable = request.form.get("enabled") == "1"
        try:
            admin_users.set_enabled(actor(), user, enable)
        except AccountError as exc:
            flash(str(exc))
        else:
            flash(f"{user.email} is {'enabled' if enable else 'disabled'}.")
    return redirect(url_for(".show", user_id=user.id))


@bp.post("/<int:user_id>/password")
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            admin_users.reset_password(actor(), user, form.password.data,
                                       revoke_keys=form.revoke_keys.data)
        except AccountError as exc:
            show_error(form, exc, "password")
        else:
            flash(f"New password set for {user.email}; their sessions have ended.")
            return redirect(url_for(".show", user_id=user.id))
    return _detail(user, 400, password_form=form)


@bp.route("/<int:user_id>/delete", methods=["GET", "POST"])
def delete(user_id: int):
    user = _user_or_404(user_id)
    form = ActionForm()
    if form.validate_on_submit():
        email = user.email
        try:
            admin_users.delete(actor(), user)
        except AccountError as exc:
            show_error(form, exc)
        else:
            flash(f"Deleted {email} and their conversations.")
            return redirect(url_for(".index"))
    return render_template("admin/user_delete.html", user=user, form=form), (
        400 if form.errors or form.form_errors else 200)
