"""Query of ``GET /v1/responses/{id}/input_items`` (``client.responses.input_items.list``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.api.schemas import OpenWireModel


class InputItemsQuery(OpenWireModel):
    """``include`` and other hints are accepted and ignored (Parlor lists what it stored)."""

    after: str | None = Field(None, description="An item id: list the items after it")
    limit: int = Field(20, ge=1, le=100, description="Items a page, 1 to 100")
    order: Literal["asc", "desc"] = Field(
        "desc", description="`desc` (the default): the last input item first")
