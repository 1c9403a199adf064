"""``/api/v1/me``: the caller's own account (only the display name can be changed here)."""

from __future__ import annotations

from app.api import rest, rest_auth
from app.api.errors import ApiError
from app.api.schemas.rest import MeUpdate, UserOut
from app.models import User
from app.services import profile
from app.services.accounts import AccountError

bp = rest.blueprint("rest_me", __name__)


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, display_name=user.display_name,
                   role=user.role.name, permissions=list(user.role.permissions or []),
                   created_at=user.created_at, last_login_at=user.last_login_at)


@bp.get("/me")
def show():
    """The caller's account."""
    return rest.data(user_out(rest_auth.current().user))


@bp.patch("/me")
def update():
    """Change the display name; any other field (role, email, id...) is refused with 400."""
    body = rest.parse_body(MeUpdate)
    user = rest_auth.current().user
    if body.display_name is not None:
        try:
            profile.rename(user, body.display_name)
        except AccountError as exc:
            raise ApiError(400, str(exc), param="display_name") from None
    return rest.data(user_out(user))
