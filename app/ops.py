"""Operations endpoints: liveness and readiness."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

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
