"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.api import errors
from app.extensions import db

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is up (200 whatever else is down); "degraded" while the rate limits run on
    their in-process fallback because Redis was unreachable."""
    limits = current_app.extensions.get("parlor.limits")
    if limits is not None and limits.storage_down:
        return jsonify(status="degraded", checks={"redis": "down"})
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The process can serve: the database answers (and Redis, when configured)."""
    checks = {"database": _database_ok()}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _redis_ok(current_app.config["REDIS_URL"])
    ready = all(checks.values())
    body = {"status": "ok" if ready else "unavailable",
            "checks": {k: "ok" if v else "down" for k, v in checks.items()}}
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics_text():
    """Prometheus metrics, for ``Authorization: Bearer <PARLOR_METRICS_TOKEN>`` (when that is
    set) or a signed-in admin."""
    refusal = _metrics_refusal()
    if refusal is not None:
        return refusal
    body, content_type = metrics.exposition(request.headers.get("Accept"),
                                            current_app.config.get("PROMETHEUS_MULTIPROC_DIR"))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _metrics_refusal() -> Response | None:
    token = current_app.config.get("PARLOR_METRICS_TOKEN")
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and _same(presented.strip(), token):
        return None
    if current_user.is_authenticated:
        if current_user.is_admin:
            return None
        return errors.error_response(errors.REST, errors.ApiError(
            403, "Only an administrator may read the metrics."))
    message = ("Send the metrics token as Authorization: Bearer, or sign in as an administrator."
               if token else "Sign in as an administrator to read the metrics.")
    response = errors.error_response(errors.REST, errors.ApiError(401, message))
    if token:
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def _same(presented: str, token: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8", "surrogateescape"),
                               token.encode("utf-8", "surrogateescape"))


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.warning("readiness: database check failed: %s", type(exc).__name__)
        db.session.rollback()
        return False


def _redis_ok(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return bool(client.ping())
    except redis.RedisError as exc:
        log.warning("readiness: redis check failed: %s", type(exc).__name__)
        return False
