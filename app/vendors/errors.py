"""Parlor's own vendor errors: adapters raise these, never an SDK exception."""

from __future__ import annotations


class VendorError(Exception):
    """A vendor call failed. ``retryable`` says whether another attempt may succeed."""

    retryable = False
    status = 502

    def __init__(self, message: str, *, retry_after: float | None = None, vendor: str = ""):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.vendor = vendor


class VendorAuthError(VendorError):
    """The vendor refused Parlor's credential."""

    status = 502


class VendorRateLimited(VendorError):
    retryable = True
    status = 429


class VendorUnavailable(VendorError):
    """Server error, overload, lost connection or a stream cut short."""

    retryable = True
    status = 502


class VendorTimeout(VendorError):
    retryable = True
    status = 504


class VendorBadRequest(VendorError):
    """The vendor rejected the request itself (validation, content policy, context length)."""

    status = 400


class VendorModelNotFound(VendorBadRequest):
    status = 404


class UnknownModelError(Exception):
    """No route serves this model name, or the caller's role may not use it."""

    def __init__(self, model: str):
        super().__init__(f"The model {model!r} does not exist or you do not have access to it.")
        self.model = model


def error_for_status(
    status: int, message: str, *, retry_after: float | None = None, vendor: str = ""
) -> VendorError:
    """Map an upstream HTTP status to the matching Parlor error."""
    if status < 400:  # an error event inside a stream that began with 200
        cls = VendorUnavailable
    elif status in (401, 403):
        cls = VendorAuthError
    elif status == 404:
        cls = VendorModelNotFound
    elif status == 429:
        cls = VendorRateLimited
    elif status in (408, 504):
        cls = VendorTimeout
    elif status >= 500 or status == 409:
        cls = VendorUnavailable
    else:
        cls = VendorBadRequest
    return cls(message, retry_after=retry_after, vendor=vendor)


def parse_retry_after(headers) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds only), if sent."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if value:
            try:
                return max(float(value) / scale, 0.0)
            except ValueError:
                continue
    return None


def scrub(text: str, secret: str | None, limit: int = 300) -> str:
    """Shorten an upstream message and remove the credential from it, should it be echoed."""
    if secret:
        text = text.replace(secret, "***")
    return text if len(text) <= limit else text[:limit] + "…"
