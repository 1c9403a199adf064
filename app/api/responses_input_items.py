"""``GET /v1/responses/{id}/input_items``: a stored response's input items as the OpenAI SDK's
``client.responses.input_items.list`` reads them (a cursor page of items, newest first unless
``order=asc``; ``after`` an item id, ``limit`` 1 to 100, default 20).

The items are those the response's own request sent (a string input is one user message);
each is given the shape and status the API lists it with, and an id: its own when it came
with one, else one derived from the response id and its place, so cursors stay valid.
"""

from __future__ import annotations

import hashlib

from app.api.errors import ApiError
from app.api.schemas.openai_response_items import InputItemsQuery

PREFIXES = {"message": "msg", "function_call": "fc", "function_call_output": "fco",
            "custom_tool_call": "ctc", "custom_tool_call_output": "ctco", "reasoning": "rs"}


def page(response_id: str, items: list[dict], query: InputItemsQuery) -> dict:
    """The list object of ``items`` for ``query``."""
    listed = [listed_item(response_id, index, item) for index, item in enumerate(items)]
    if query.order == "desc":
        listed.reverse()
    if query.after:
        ids = [item["id"] for item in listed]
        if query.after not in ids:
            raise ApiError(400, f"after: no input item {query.after!r} in this response.",
                           param="after")
        listed = listed[ids.index(query.after) + 1:]
    data = listed[:query.limit]
    return {"object": "list", "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(listed) > query.limit}


def listed_item(response_id: str, index: int, item: dict) -> dict:
    """One input item as the API lists it: content parts, a status, an id."""
    kind = item.get("type") or "message"
    listed = {**item, "type": kind}
    if kind == "message":
        content = item.get("content")
        if isinstance(content, str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            content = [{"type": part, "text": content}]
            if part == "output_text":
                content[0]["annotations"] = []
        listed["content"] = content or []
    if kind != "reasoning":
        listed.setdefault("status", "completed")
    else:
        listed.setdefault("summary", [])
    if not listed.get("id"):
        digest = hashlib.sha256(f"{response_id}:{index}".encode()).hexdigest()[:48]
        listed["id"] = f"{PREFIXES.get(kind, 'item')}_{digest}"
    return listed
