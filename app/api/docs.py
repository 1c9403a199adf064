"""``GET /api/openapi.json`` (the OpenAPI 3.1 document) and ``GET /api/docs`` (a page that
renders it with the vendored Swagger UI); both public, like any API's documentation."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from app.api import openapi

bp = Blueprint("api_docs", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi.document())


@bp.get("/docs")
def page():
    return render_template("api/docs.html")
