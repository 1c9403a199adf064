"""Azure OpenAI's wire format on the fake vendor server.

``POST /openai/deployments/{deployment}/chat/completions?api-version=...`` (and
``/embeddings``), ``GET /openai/models?api-version=...``: the key comes in the ``api-key``
header (a bearer token is not the key here), the deployment names the model. A call without
``api-version`` gets Azure's 404 body. Everything else is answered as OpenAI's Chat Completions
by the server's own code: :func:`as_openai` rewrites the request it sees.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import unquote

DEPLOYMENT = re.compile(r"^/openai/deployments/([^/]+)(/chat/completions|/embeddings)$")
MISSING_VERSION = {"error": {"code": "404", "message": "Resource not found"}}


def is_azure(record) -> bool:
    return record.path.startswith("/openai/")


def missing_version(record) -> bool:
    return not record.query.get("api-version")


def as_openai(record):
    """The request as the OpenAI route of the fake reads it: the deployment as the body's
    model, the ``api-key`` header as the key (and no other credential), ``/v1`` paths."""
    headers = {k: v for k, v in record.headers.items() if k not in ("authorization",
                                                                     "x-api-key")}
    if "api-key" in headers:
        headers["x-api-key"] = headers["api-key"]
    path, body = record.path, record.body
    if match := DEPLOYMENT.match(path):
        path = "/v1" + match.group(2)
        if isinstance(body, dict):
            body = {**body, "model": unquote(match.group(1))}
    elif path == "/openai/models":
        path = "/v1/models"
    return dataclasses.replace(record, path=path, headers=headers, body=body)
