"""What the admin resources share: the acting admin for the audit trail, and page metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request

from app.api import rest_auth
from app.api.errors import ApiError
from app.api.schemas.admin import PageQuery
from app.api.schemas.rest import PageMeta
from app.services.actor import Actor

if TYPE_CHECKING:  # the page a service returns; views never call the repositories
    from app.repositories.pages import Page


def actor() -> Actor:
    """The calling admin and their address, as the HTML screens record them."""
    return Actor(user_id=rest_auth.current().user.id, ip=request.remote_addr)


def page_items(found: Page, query: PageQuery) -> tuple[list, PageMeta]:
    """The page's rows and its metadata; an out-of-range page is empty, not the last again."""
    rows = found.items if found.number == query.page else []
    return rows, PageMeta(page=query.page, per_page=query.per_page, total=found.total,
                          has_more=query.page < found.pages)


def refused(exc: Exception, status: int = 400) -> ApiError:
    """A service's rule violation as a REST error naming its field, when it has one."""
    field = getattr(exc, "field", None)
    kind = "conflict" if status == 409 else None
    return ApiError(status, str(exc), kind=kind, param=field)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"There is no such {what}.")
