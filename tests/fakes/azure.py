"""Azure OpenAI's wire format on the fake vendor server.

``POST /openai/deployments/{deployment}/chat/completions?api-version=...`` (and
``/embeddings``), ``GET /openai/models?api-version=...``: the key comes in the ``api-key``
header, or an Entra token in ``Authorization: Bearer`` (one this fake issued; the fake's key
there is refused), the deployment names the model.

Microsoft Entra ID's token endpoint, ``POST /{tenant}/oauth2/v2.0/token`` (form-encoded,
client-credentials grant): the service principal ``ENTRA_*`` gets a new token each time, a
wrong tenant, client or secret gets Entra's own error body (AADSTS codes). A call without
``api-version`` gets Azure's 404 body. Everything else is answered as OpenAI's Chat Completions
by the server's own code: :func:`as_openai` rewrites the request it sees.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
from urllib.parse import parse_qs, unquote

DEPLOYMENT = re.compile(r"^/openai/deployments/([^/]+)(/chat/completions|/embeddings)$")
MISSING_VERSION = {"error": {"code": "404", "message": "Resource not found"}}
TOKEN_PATH = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
ENTRA_TENANT = "00000000-fake-tenant"
ENTRA_CLIENT_ID = "11111111-fake-client"
ENTRA_CLIENT_SECRET = "entra~fake~client~secret~value"
ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
_issued: set[str] = set()
_lock = threading.Lock()


def is_azure(record) -> bool:
    return record.path.startswith("/openai/")


def missing_version(record) -> bool:
    return not record.query.get("api-version")


def is_token_request(record) -> bool:
    return record.method == "POST" and bool(TOKEN_PATH.match(record.path))


def answer_token(handler, record, raw: bytes) -> None:
    """Entra's client-credentials grant: a fresh token for the fake's service principal."""
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    tenant = TOKEN_PATH.match(record.path).group(1)
    if tenant != ENTRA_TENANT:
        return handler._json(400, {"error": "invalid_request", "error_description": (
            f"AADSTS90002: Tenant '{tenant}' not found.")})
    if form.get("grant_type") != "client_credentials":
        return handler._json(400, {"error": "unsupported_grant_type"})
    if form.get("client_id") != ENTRA_CLIENT_ID:
        return handler._json(400, {"error": "unauthorized_client", "error_description": (
            f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not "
            "found in the directory.")})
    if form.get("client_secret") != ENTRA_CLIENT_SECRET:
        return handler._json(401, {"error": "invalid_client", "error_description": (
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
            f"the request is the client secret value, not the client secret ID, for a secret "
            f"added to app '{ENTRA_CLIENT_ID}'.\r\nTrace ID: fake")})
    if form.get("scope") != ENTRA_SCOPE:
        return handler._json(400, {"error": "invalid_scope"})
    token = "eyJ0eXAiOiJKV1Qi.fake." + secrets.token_urlsafe(16)
    with _lock:
        _issued.add(token)
    return handler._json(200, {"token_type": "Bearer", "expires_in": 3599,
                               "ext_expires_in": 3599, "access_token": token})


def as_openai(record, api_key: str):
    """The request as the OpenAI route of the fake reads it: the deployment as the body's
    model, the ``api-key`` header (or a bearer token the fake's Entra issued) as the key,
    and no other credential, ``/v1`` paths."""
    headers = {k: v for k, v in record.headers.items() if k not in ("authorization",
                                                                     "x-api-key")}
    if "api-key" in headers:
        headers["x-api-key"] = headers["api-key"]
    bearer = record.headers.get("authorization", "")
    if "api-key" not in headers and bearer.startswith("Bearer "):
        with _lock:
            known = bearer[7:] in _issued
        headers["x-api-key"] = api_key if known else "unknown-entra-token"
    path, body = record.path, record.body
    if match := DEPLOYMENT.match(path):
        path = "/v1" + match.group(2)
        if isinstance(body, dict):
            body = {**body, "model": unquote(match.group(1))}
    elif path == "/openai/models":
        path = "/v1/models"
    return dataclasses.replace(record, path=path, headers=headers, body=body)
