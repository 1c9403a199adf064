"""Admin screen: every API key; create one for a user (shown once), cap one's monthly tokens
or revoke one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.admin.access import actor, page_number, require_admin
from app.admin.forms import ActionForm, BudgetForm, KeyTeamForm, NewKeyForm, show_error
from app.services import admin_keys, budgets, cost_budgets, teams

bp = Blueprint("admin_keys", __name__, url_prefix="/admin/keys")
bp.before_request(require_admin)


def _page(form: NewKeyForm, status: int = 200, created=None, secret: str | None = None):
    owner = request.args.get("owner", "").strip()[:255]
    response = render_template("admin/keys.html",
                               keys=admin_keys.listing(owner, page=page_number()),
                               owner=owner, form=form, action_form=ActionForm(),
                               created=created, secret=secret)
    # The page holding a fresh secret must not be cached anywhere.
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/")
def index():
    return _page(NewKeyForm(formdata=None))


@bp.post("/")
def create():
    form = NewKeyForm()
    if form.validate_on_submit():
        try:
            key, secret = admin_keys.create(
                actor(), email=form.email.data, name=form.name.data or "",
                scopes=admin_keys.parse_scopes(form.scopes.data),
                expires_days=form.expires_days.data, rate_limit=form.rate_limit.data,
                monthly_token_budget=form.monthly_token_budget.data)
        except admin_keys.KeyRequestError as exc:
            show_error(form, exc)
        else:
            # Shown in this one response only: Parlor keeps just its hash.
            return _page(NewKeyForm(formdata=None), created=key, secret=secret)
    return _page(form, 400)


def _detail(key, form: BudgetForm | None = None, status: int = 200):
    form = form or BudgetForm(formdata=None, monthly_token_budget=key.monthly_token_budget,
                              monthly_cost_budget=key.monthly_cost_budget)
    team_form = KeyTeamForm(formdata=None, team=str(key.team_id or ""))
    team_form.team.choices = [("", "none: the owner's team"),
                              *((str(t.id), t.name) for t in teams.all_teams())]
    return render_template("admin/key.html", key=key, form=form, action_form=ActionForm(),
                           team_form=team_form,
                           budget=budgets.key_status(key)), status


@bp.get("/<int:key_id>")
def show(key_id: int):
    return _detail(admin_keys.find(key_id) or abort(404))


@bp.post("/<int:key_id>/budget")
def set_budget(key_id: int):
    """Cap the tokens spent through the key a month; empty: no cap of its own."""
    key = admin_keys.find(key_id) or abort(404)
    form = BudgetForm()
    if form.validate_on_submit():
        try:
            admin_keys.set_budget(actor(), key, form.monthly_token_budget.data)
            cost_budgets.set_key_cost_budget(actor(), key, form.monthly_cost_budget.data)
        except (admin_keys.KeyRequestError, cost_budgets.CostBudgetError) as exc:
            show_error(form, exc)
        else:
            tokens = key.monthly_token_budget
            flash(f"{key.prefix} has no monthly budget of its own." if tokens is None else
                  f"{key.prefix} may spend {tokens:,} tokens a month.")
            return redirect(url_for(".show", key_id=key.id))
    return _detail(key, form, 400)


@bp.post("/<int:key_id>/team")
def set_team(key_id: int):
    """Make the key a service key of a team (its calls count towards the team), or not."""
    key = admin_keys.find(key_id) or abort(404)
    form = KeyTeamForm()
    if form.validate_on_submit():
        chosen = form.team.data or ""
        team = teams.find(int(chosen)) if chosen.isdigit() else None
        if chosen and team is None:
            abort(400)
        teams.set_key_team(actor(), key, team)
        flash(f"{key.prefix} now serves the team {team.name}." if team else
              f"{key.prefix} counts towards its owner's team.")
    return redirect(url_for(".show", key_id=key.id))


@bp.post("/<int:key_id>/revoke")
def revoke(key_id: int):
    key = admin_keys.find(key_id) or abort(404)
    if ActionForm().validate_on_submit():
        admin_keys.revoke(actor(), key)
        flash(f"Revoked {key.prefix}.")
    return redirect(request.referrer if _same_site(request.referrer) else url_for(".index"))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url + "admin/")
