"""One page of a query's rows, with the total the pager needs."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from app.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(statement: Select, number: int, per_page: int = 25, *, rows: bool = False) -> Page:
    """Run ``statement`` for page ``number`` (from 1); out-of-range numbers are clamped.

    Items are the first selected entity, or whole rows with ``rows=True``.
    """
    total = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    number = min(max(1, number), max(1, ceil(total / per_page)))
    window = statement.limit(per_page).offset((number - 1) * per_page)
    items = list(db.session.execute(window) if rows else db.session.scalars(window))
    return Page(items=items, number=number, per_page=per_page, total=total)
