"""``data:`` URLs of images and files in request bodies, checked without decoding them twice."""

from __future__ import annotations

import re

DATA_URL = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+)(?:;[\w-]+=[^;,]*)*;base64,(?P<data>.*)",
                      re.DOTALL)
BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def parse_data_url(url: str, field: str) -> tuple[str, str]:
    """(media type, base64 data) of a ``data:<type>;base64,<data>`` URL; ValueError otherwise.

    The data is checked to be base64 without decoding it (no copy of a large image is made):
    a bad upload is a 400 here, not the vendor's."""
    match = DATA_URL.fullmatch(url)
    if not match:
        raise ValueError(f"{field} must be a data:<media type>;base64,<data> URL or an https URL")
    data = match["data"]
    if len(data) % 4 or not BASE64.fullmatch(data):
        raise ValueError(f"{field} holds data that is not base64")
    return match["type"].lower(), data
