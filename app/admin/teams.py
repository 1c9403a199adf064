"""Admin screen: teams, their members, service keys, models, limit and budgets."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from app.admin.access import actor, require_admin
from app.admin.forms import ActionForm, TeamForm, TeamMemberForm, show_error
from app.services import roles, teams

bp = Blueprint("admin_teams", __name__, url_prefix="/admin/teams")
bp.before_request(require_admin)


def _form(team=None) -> TeamForm:
    form = TeamForm(obj=team) if team is not None else TeamForm()
    if team is not None and not form.is_submitted():
        form.allowed_models.data = "\n".join(team.allowed_models or [])
    return form


def _spec(form: TeamForm) -> teams.TeamSpec:
    models = roles.parse_models(form.allowed_models.data)
    return teams.TeamSpec(
        name=form.name.data or "", description=form.description.data or "",
        allowed_models=models or None, rate_limit=form.rate_limit.data,
        monthly_token_budget=form.monthly_token_budget.data,
        monthly_cost_budget=form.monthly_cost_budget.data)


def _team_or_404(team_id: int):
    return teams.find(team_id) or abort(404)


def _list(form: TeamForm, status: int = 200):
    return render_template("admin/teams.html", teams=teams.all_teams(),
                           counts=teams.member_counts(), form=form), status


@bp.get("/")
def index():
    return _list(_form())


@bp.post("/")
def create():
    form = _form()
    if form.validate_on_submit():
        try:
            team = teams.create(actor(), _spec(form))
        except teams.TeamError as exc:
            show_error(form, exc)
        else:
            flash(f"Created the team {team.name}.")
            return redirect(url_for(".show", team_id=team.id))
    return _list(form, 400)


def _detail(team, form=None, member_form=None, status=200):
    return render_template("admin/team.html", team=team, form=form or _form(team),
                           member_form=member_form or TeamMemberForm(),
                           members=teams.members(team), keys=teams.service_keys(team),
                           action_form=ActionForm()), status


@bp.get("/<int:team_id>")
def show(team_id: int):
    return _detail(_team_or_404(team_id))


@bp.post("/<int:team_id>")
def update(team_id: int):
    team = _team_or_404(team_id)
    form = _form(team)
    if form.validate_on_submit():
        try:
            teams.update(actor(), team, _spec(form))
        except teams.TeamError as exc:
            show_error(form, exc)
        else:
            flash(f"Saved the team {team.name}.")
            return redirect(url_for(".show", team_id=team.id))
    return _detail(team, form=form, status=400)


@bp.post("/<int:team_id>/members")
def add_member(team_id: int):
    team = _team_or_404(team_id)
    form = TeamMemberForm()
    if form.validate_on_submit():
        try:
            user = teams.add_member_by_email(actor(), team, form.email.data)
        except teams.TeamError as exc:
            show_error(form, exc)
        else:
            flash(f"{user.email} is now in the team {team.name}.")
            return redirect(url_for(".show", team_id=team.id))
    return _detail(team, member_form=form, status=400)


@bp.post("/<int:team_id>/members/<int:user_id>/remove")
def remove_member(team_id: int, user_id: int):
    team = _team_or_404(team_id)
    if ActionForm().validate_on_submit():
        teams.remove_member(actor(), team, user_id)
        flash("Removed from the team.")
    return redirect(url_for(".show", team_id=team.id))


@bp.post("/<int:team_id>/delete")
def delete(team_id: int):
    team = _team_or_404(team_id)
    if ActionForm().validate_on_submit():
        name = team.name
        teams.delete(actor(), team)
        flash(f"Deleted the team {name}; its members and keys have no team now.")
    return redirect(url_for(".index"))
