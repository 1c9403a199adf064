"""HTML error pages for the browser; they reveal nothing internal."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):
        return _page(400, "The form expired or did not come from Parlor. Reload and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # JSON audiences register a renderer for their paths (a 404/405 no view claimed).
        for prefix, render in app.extensions.get("parlor.json_errors", {}).items():
            if request.path.startswith(prefix):
                return render(exc)
        return _page(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error")
        return _page(500, InternalServerError.description)


def _page(status: int, message: str):
    return render_template("errors/error.html", status=status, message=message), status
