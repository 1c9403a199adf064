"""``/api/v1/admin/teams``: list, create, read, update (models, limit, budgets), delete, and
members (a user belongs to at most one team); audited like /admin/teams."""

from __future__ import annotations

from app.api import rest
from app.api.admin.shared import actor, not_found, refused
from app.api.admin.users import user_or_404, user_out
from app.api.errors import ApiError
from app.api.schemas.admin import TeamCreate, TeamMemberAdd, TeamOut, TeamUpdate
from app.api.schemas.rest import PageMeta
from app.models import Team
from app.services import teams

bp = rest.admin_blueprint("rest_admin_teams", __name__)


def team_out(team: Team, counts: dict[int, int]) -> TeamOut:
    return TeamOut(id=team.id, name=team.name, description=team.description or "",
                   allowed_models=team.allowed_models, rate_limit=team.rate_limit,
                   monthly_token_budget=team.monthly_token_budget,
                   monthly_cost_budget=None if team.monthly_cost_budget is None
                   else float(team.monthly_cost_budget),
                   members=counts.get(team.id, 0), created_at=team.created_at)


def team_or_404(team_id: int) -> Team:
    team = teams.find(team_id)
    if team is None:
        raise not_found("team")
    return team


def _whole(items: list) -> PageMeta:
    return PageMeta(page=1, per_page=max(len(items), 1), total=len(items), has_more=False)


@bp.get("/teams")
def index():
    counts = teams.member_counts()
    found = [team_out(t, counts) for t in teams.all_teams()]
    return rest.listing(found, _whole(found))


@bp.post("/teams")
def create():
    body = rest.parse_body(TeamCreate)
    try:
        team = teams.create(actor(), teams.TeamSpec(**body.model_dump()))
    except teams.TeamError as exc:
        raise refused(exc) from None
    return rest.data(team_out(team, teams.member_counts()), 201)


@bp.get("/teams/<int:team_id>")
def show(team_id: int):
    return rest.data(team_out(team_or_404(team_id), teams.member_counts()))


@bp.patch("/teams/<int:team_id>")
def update(team_id: int):
    """Change only the fields sent; ``null`` clears allowed_models, rate_limit and budgets."""
    team = team_or_404(team_id)
    body = rest.parse_body(TeamUpdate)
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    nulled = [n for n in ("name", "description") if n in sent and sent[n] is None]
    if nulled:
        raise ApiError(400, f"{nulled[0]}: cannot be null.", param=nulled[0])
    current = teams.spec_of(team).__dict__
    try:
        teams.update(actor(), team, teams.TeamSpec(**{**current, **sent}))
    except teams.TeamError as exc:
        raise refused(exc) from None
    return rest.data(team_out(team, teams.member_counts()))


@bp.delete("/teams/<int:team_id>")
def delete(team_id: int):
    teams.delete(actor(), team_or_404(team_id))
    return rest.no_content()


@bp.get("/teams/<int:team_id>/members")
def members(team_id: int):
    found = [user_out(u) for u in teams.members(team_or_404(team_id))]
    return rest.listing(found, _whole(found))


@bp.post("/teams/<int:team_id>/members")
def add_member(team_id: int):
    team = team_or_404(team_id)
    body = rest.parse_body(TeamMemberAdd)
    user = user_or_404(body.user_id)
    return rest.data(user_out(teams.set_user_team(actor(), user, team)))


@bp.delete("/teams/<int:team_id>/members/<int:user_id>")
def remove_member(team_id: int, user_id: int):
    team, user = team_or_404(team_id), user_or_404(user_id)
    if user.team_id != team.id:
        raise not_found("member of this team")
    teams.set_user_team(actor(), user, None)
    return rest.no_content()
