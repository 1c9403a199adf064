"""What every native REST resource module shares: its blueprint set-up, request parsing and
the one success envelope (``{"data": ...}``, lists with ``"meta"``).

Errors are answered by :mod:`app.api.errors` in the REST shape
``{"error": {"code", "message", "details"}}`` for every ``/api/v1`` path, routed or not.
"""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError

from app.api import errors, rest_auth
from app.api.schemas import read_json_object
from app.api.schemas.rest import PageMeta
from app.extensions import csrf

PREFIX = "/api/v1"
ADMIN_PERMISSION = "admin"
Schema = TypeVar("Schema", bound=BaseModel)


def blueprint(name: str, import_name: str) -> Blueprint:
    """A resource's blueprint under /api/v1: key or session auth, JSON errors, no form CSRF
    (session callers are checked for the header token by :mod:`rest_auth`)."""
    bp = Blueprint(name, import_name, url_prefix=PREFIX)
    csrf.exempt(bp)
    errors.install(bp, errors.REST, prefix=PREFIX)

    @bp.before_request
    def authenticate():
        rest_auth.authenticate()

    return bp


def admin_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api/v1/admin: as :func:`blueprint`, plus the ``admin`` permission
    (anonymous: 401; a member, or a key not scoped for it: 403)."""
    bp = blueprint(name, import_name)
    bp.url_prefix = PREFIX + "/admin"

    @bp.before_request
    def require_admin():
        rest_auth.require(ADMIN_PERMISSION)

    return bp


def parse_body(schema: type[Schema]) -> Schema:
    """The JSON body validated by ``schema``; 400 naming every bad field."""
    return _validate(schema, read_json_object())


def parse_query(schema: type[Schema]) -> Schema:
    """The query string validated by ``schema``; unknown parameters are ignored."""
    return _validate(schema, request.args.to_dict())


def _validate(schema: type[Schema], values: dict) -> Schema:
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)",
                    "message": e["msg"].removeprefix("Value error, ")}
                   for e in exc.errors(include_url=False, include_input=False)]
        first = details[0]
        raise errors.ApiError(400, f"{first['field']}: {first['message']}",
                              kind="invalid_request", details=details) from None


def data(payload: BaseModel | dict, status: int = 200) -> Response:
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    response = jsonify({"data": body})
    response.status_code = status
    return response


def listing(items: list[BaseModel], meta: PageMeta) -> Response:
    return jsonify({"data": [item.model_dump(mode="json") for item in items],
                    "meta": meta.model_dump(mode="json")})


def no_content() -> Response:
    return Response(status=204)
