"""API errors in the wire shape of the API the client called (OpenAI or Anthropic).

``ApiError`` carries a neutral ``kind``; :func:`error_response` renders it for one ``shape``.
Vendor errors, unknown models, rate limits and HTTP errors are mapped by
:func:`from_exception`, so every JSON audience (``/v1`` and the native ``/api/v1``) answers
failures the same careful way: the vendor-standard status, no upstream body, no secret, no
stack trace. The native API has one shape of its own: ``{"error": {"code", "message",
"details"}}``.
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.limits import RateLimited
from app.logs import request_id
from app.services.budgets import BudgetExceeded
from app.vendors import errors as vendor

log = logging.getLogger(__name__)

OPENAI, ANTHROPIC, REST = "openai", "anthropic", "rest"

# kind -> (OpenAI type, OpenAI code, Anthropic type)
KINDS = {
    "invalid_request": ("invalid_request_error", None, "invalid_request_error"),
    "authentication": ("invalid_request_error", "invalid_api_key", "authentication_error"),
    "permission": ("invalid_request_error", "permission_denied", "permission_error"),
    "not_found": ("invalid_request_error", "not_found", "not_found_error"),
    "model_not_found": ("invalid_request_error", "model_not_found", "not_found_error"),
    "request_too_large": ("invalid_request_error", "request_too_large", "request_too_large"),
    "rate_limit": ("requests", "rate_limit_exceeded", "rate_limit_error"),
    "api_error": ("server_error", None, "api_error"),
    "timeout": ("server_error", "timeout", "timeout_error"),
    "insufficient_quota": ("insufficient_quota", "insufficient_quota", "rate_limit_error"),
    "unavailable": ("server_error", "service_unavailable", "api_error"),
}
STATUS_KINDS = {400: "invalid_request", 401: "authentication", 403: "permission",
                404: "not_found", 405: "invalid_request", 413: "request_too_large",
                429: "rate_limit"}
VENDOR_ERRORS = [  # most specific first: (class, status, kind, message for the client)
    (vendor.VendorModelNotFound, 404, "model_not_found", None),
    (vendor.VendorBadRequest, 400, "invalid_request", None),
    (vendor.VendorRateLimited, 429, "rate_limit",
     "The model's vendor is rate limiting requests; try again shortly."),
    (vendor.VendorTimeout, 504, "timeout", "The model's vendor did not answer in time."),
    (vendor.VendorAuthError, 502, "api_error",
     "The model's vendor refused Parlor's credential; ask an administrator to check it."),
    (vendor.VendorUnavailable, 502, "api_error", "The model's vendor is unavailable right now."),
    (vendor.VendorError, 502, "api_error", "The model's vendor failed to answer."),
]


DATABASE_RETRY_AFTER = 5  # seconds


class ApiError(Exception):
    """A failure to report to an API client; ``message`` is safe to show."""

    def __init__(self, status: int, message: str, *, kind: str | None = None,
                 param: str | None = None, retry_after: float | None = None,
                 should_retry: bool | None = None, details: object = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind or STATUS_KINDS.get(status, "api_error")
        self.param = param
        self.retry_after = retry_after
        self.should_retry = should_retry
        self.details = details


def add_request_id(response: Response) -> Response:
    """Both spellings: OpenAI SDKs read ``x-request-id``, Anthropic SDKs ``request-id``."""
    rid = request_id()
    response.headers.setdefault("x-request-id", rid)
    response.headers.setdefault("request-id", rid)
    return response


def from_exception(exc: BaseException) -> ApiError:
    """The client-facing error for any exception raised while serving an API request."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, vendor.UnknownModelError):
        return ApiError(404, str(exc), kind="model_not_found", param="model")
    if isinstance(exc, vendor.VendorError):
        return _from_vendor(exc)
    if isinstance(exc, RateLimited):
        return ApiError(429, f"Rate limit reached ({exc.limit}); try again in "
                             f"{exc.retry_after} s.", kind="rate_limit",
                        retry_after=exc.retry_after)
    if isinstance(exc, BudgetExceeded):
        return ApiError(429, str(exc), kind="insufficient_quota", retry_after=exc.retry_after,
                        should_retry=False)
    if isinstance(exc, OperationalError | PoolTimeout):  # the database is down: no key is
        return ApiError(503, "Parlor cannot reach its database right now; try again shortly.",
                        kind="unavailable", retry_after=DATABASE_RETRY_AFTER)  # taken unchecked
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        if status == 413:
            limit = request.max_content_length  # this path's limit (app/security.py)
            return ApiError(413, f"The request body is larger than the limit of {limit} bytes.")
        if status >= 500:
            return ApiError(500, "The server had an error while processing your request.")
        return ApiError(status, exc.description or exc.name)
    return ApiError(500, "The server had an error while processing your request.")


def _from_vendor(exc: vendor.VendorError) -> ApiError:
    for cls, status, kind, message in VENDOR_ERRORS:
        if isinstance(exc, cls):
            # A bad request's upstream text (scrubbed by the adapter) helps the client fix it;
            # other upstream texts may describe Parlor's own set-up: a fixed message instead.
            text = message or exc.message or "The model's vendor refused the request."
            retried = exc.retryable and current_app.config.get("PARLOR_VENDOR_RETRIES", 0) > 0
            return ApiError(status, text, kind=kind, retry_after=exc.retry_after,
                            should_retry=False if retried else None)
    raise AssertionError("unreachable: VendorError is the last entry")


def error_body(shape: str, error: ApiError) -> dict:
    """The JSON body of ``error`` in the wire shape ``shape``."""
    openai_type, code, anthropic_type = KINDS.get(error.kind, KINDS["api_error"])
    if shape == ANTHROPIC:
        return {"type": "error", "error": {"type": anthropic_type, "message": error.message},
                "request_id": request_id()}
    if shape == REST:
        details = error.details
        if details is None and error.param:
            details = [{"field": error.param, "message": error.message}]
        return {"error": {"code": error.kind, "message": error.message, "details": details}}
    return {"error": {"message": error.message, "type": openai_type, "param": error.param,
                      "code": code}}


def error_response(shape: str, error: ApiError) -> Response:
    response = jsonify(error_body(shape, error))
    response.status_code = error.status
    if error.status in (429, 503):
        response.headers["retry-after"] = str(max(1, math.ceil(error.retry_after or 1)))
    if error.should_retry is not None:
        response.headers["x-should-retry"] = "true" if error.should_retry else "false"
    return add_request_id(response)


def shape_for_path(path: str) -> str:
    """The wire shape for a path no view claimed (a 404 or 405 under ``/v1``)."""
    if path.startswith(("/v1/messages", "/v1/v1/")) or request.headers.get("anthropic-version"):
        return ANTHROPIC
    return OPENAI


def handle(exc: BaseException, shape: str) -> Response:
    """Log what deserves it and answer ``exc`` in ``shape``; a 500 rolls the session back."""
    error = from_exception(exc)
    if error.status >= 500:
        db.session.rollback()
        if isinstance(exc, vendor.VendorError):
            log.warning("vendor call failed: %s", type(exc).__name__)
        elif isinstance(exc, OperationalError | PoolTimeout):
            log.warning("database unreachable on %s: %s", request.path, type(exc).__name__)
        elif not isinstance(exc, HTTPException | ApiError):
            log.exception("unhandled error on %s", request.path)
    return error_response(shape, error)


def install(bp: Blueprint, default_shape: str, prefix: str = "/v1/") -> None:
    """Answer every error raised in ``bp`` as JSON in its shape (``g.api_shape`` may override it).

    Errors on ``prefix`` paths that no view claims (404, 405) are offered to the app-wide
    handlers through ``app.extensions["parlor.json_errors"]`` so they stay JSON too.
    """

    def shape() -> str:
        return g.get("api_shape") or default_shape

    bp.register_error_handler(Exception, lambda exc: handle(exc, shape()))
    bp.after_request(add_request_id)
    render = render_unrouted if default_shape != REST else render_unrouted_rest
    bp.record_once(lambda state: state.app.extensions.setdefault(
        "parlor.json_errors", {}).setdefault(prefix, render))


def render_unrouted(exc: BaseException) -> Response:
    """For app-wide handlers: an error on a ``/v1`` path that no API view claimed."""
    return handle(exc, shape_for_path(request.path))


def render_unrouted_rest(exc: BaseException) -> Response:
    """For app-wide handlers: an error on an ``/api/v1`` path that no view claimed."""
    return handle(exc, REST)
