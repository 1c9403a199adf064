"""Active health checks of the deployments that opt in (a route's ``health_check``;
app/vendors/health_checks.py), every ``PARLOR_HEALTH_CHECK_INTERVAL`` seconds (0: off). Each
worker process runs its own loop, started by its first request (threads do not survive
gunicorn's fork); with ``REDIS_URL`` one instance of all checks each round, and every instance
reads the shared result."""

from __future__ import annotations

from flask import Flask

from app import metrics
from app.extensions import db
from app.process_local import ProcessLocal
from app.vendors import VendorManager
from app.vendors.health_checks import HealthChecker, HealthCheckLoop

EXTENSION = "parlor.health_checks"


def init_app(app: Flask) -> None:
    interval = app.config["PARLOR_HEALTH_CHECK_INTERVAL"]
    if interval <= 0:
        return

    def current() -> VendorManager:
        with app.app_context():
            try:
                return app.extensions["parlor.vendors"].current()
            finally:
                db.session.remove()

    loops = ProcessLocal(lambda: HealthCheckLoop(
        HealthChecker(interval, observer=metrics.VendorMetrics()), current).start())
    app.extensions[EXTENSION] = loops
    app.before_request(lambda: loops() and None)  # this process's loop, started once


def stop(app: Flask) -> None:
    """Stop this process's loop, if it runs (tests; a process exits without it)."""
    loops = app.extensions.get(EXTENSION)
    if loops is not None:
        loops().stop()
