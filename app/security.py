"""Security headers on every response, the trusted-proxy set-up, request body limits by
audience, and secrets kept out of logs."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

KEY_ONLY_PREFIX = "/v1/"  # the vendor-compatible API: API keys only, no browser session
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


# ``?api_key=...`` (or ``key``, ``token`` ...) in a logged request line: keep the name only.
SECRET_QUERY = re.compile(
    r"([?&](?:api[_-]?key|apikey|key|access_token|token|secret)=)[^&\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the values of secret-looking query parameters replaced by ``***``."""
    return SECRET_QUERY.sub(r"\1***", text)


class RedactQuerySecrets(logging.Filter):
    """Masks query-string keys in request log lines (werkzeug's and gunicorn's access log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQuerySecrets) for f in logger.filters):
            logger.addFilter(RedactQuerySecrets())


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, left out of the OpenAI- and Anthropic-compatible API:
    it authenticates by API key alone, and opening and saving a session cost each call
    ~30 µs (the signing serializer is built twice). A browser's cookie sent there is ignored
    and never rewritten."""

    def open_session(self, app: Flask, request):
        if request.path.startswith(KEY_ONLY_PREFIX):
            return self.null_session_class()
        return super().open_session(app, request)


def content_security_policy(issuer: str | None) -> str:
    """The CSP, whose ``form-action`` also lets the sign-in and sign-out forms' redirects reach
    the OpenID provider (Chromium checks form-action on each redirect of a form's navigation)."""
    if not issuer:
        return CSP
    parts = urlsplit(issuer)
    return CSP.replace("form-action 'self'",
                       f"form-action 'self' {parts.scheme}://{parts.netloc}")


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    csp = content_security_policy(app.config.get("PARLOR_OIDC_ISSUER"))
    # Only the configured number of proxies may set the client address and scheme: with 0,
    # a client's own X-Forwarded-For is ignored (rate limits key on the real address).
    proxies = app.config.get("PARLOR_TRUSTED_PROXIES", 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    install_log_redaction()

    @app.before_request
    def body_limit():
        # Before any view reads the body: agents send large contexts to the vendor-compatible
        # API; the browser and /api/v1 keep MAX_CONTENT_LENGTH.
        if request.path.startswith(KEY_ONLY_PREFIX):
            request.max_content_length = app.config["PARLOR_MAX_API_REQUEST_BYTES"]

    @app.after_request
    def harden(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
