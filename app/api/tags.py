"""Spend tags of a ``/v1`` call: the ``x-parlor-tags: a,b`` header (Claude Code sends it
through ``ANTHROPIC_CUSTOM_HEADERS``) and ``metadata.tags`` in the body (a list of strings or
one comma-separated string), merged in that order. A bad tag is a 400 in the caller's shape."""

from __future__ import annotations

import re

from flask import g, request

from app.api.errors import ApiError

HEADER = "x-parlor-tags"
MAX_TAGS = 10
TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,63}$")


def take_body_tags(body: dict) -> None:
    """Take ``metadata.tags`` out of a ``/v1`` body (they are Parlor's: a vendor would refuse
    them) and keep them for :func:`request_tags`; a metadata left empty goes too."""
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and "tags" in metadata:
        g.parlor_body_tags = metadata.pop("tags")
        if not metadata:
            del body["metadata"]


def request_tags() -> tuple[str, ...]:
    """The call's tags, deduplicated, in order; 400 for a malformed one."""
    found: list[str] = []
    header = request.headers.get(HEADER)
    if header:
        found += header.split(",")
    tags = g.get("parlor_body_tags")
    if tags is not None:
        if isinstance(tags, str):
            found += tags.split(",")
        elif isinstance(tags, list) and all(isinstance(t, str) for t in tags):
            found += tags
        else:
            raise ApiError(400, "metadata.tags: a list of strings or one comma-separated "
                                "string.", param="metadata.tags")
    tags = list(dict.fromkeys(t.strip() for t in found if t.strip()))
    for tag in tags:
        if not TAG.match(tag):
            raise ApiError(400, f"The tag {tag[:80]!r} is not valid: up to 64 letters, digits "
                                "and . _ - : / @ +, starting with a letter or digit.",
                           param="tags")
    if len(tags) > MAX_TAGS:
        raise ApiError(400, f"At most {MAX_TAGS} tags a call.", param="tags")
    return tuple(tags)
