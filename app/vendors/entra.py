"""Microsoft Entra ID tokens for Azure OpenAI: a service principal's OAuth2 client-credentials
grant, its access token kept until shortly before it expires.

A small fetch on the handler's own HTTP client rather than ``azure-identity`` / ``msal``: those
insist on an ``https`` authority (and discover it on Microsoft's hosts), so the fake vendor could
not stand in for Entra in tests, and they would add ~15 MB to a worker for one POST. The
authority defaults to the public cloud's; a sovereign cloud (or a test) sets its own.
"""

from __future__ import annotations

import json
import threading
import time

import httpx2

from app.vendors.errors import VendorAuthError, VendorTimeout, VendorUnavailable, scrub
from app.vendors.types import Credential

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
SCOPE = "https://cognitiveservices.azure.com/.default"
REFRESH_MARGIN = 300.0  # seconds before expiry a token is fetched anew
FIELDS = ("tenant_id", "client_id", "client_secret")


class EntraTokens:
    """Bearer tokens of one service principal (thread-safe; one fetch at a time)."""

    def __init__(self, credential: Credential, clock=time.monotonic):
        self.vendor = credential.name
        self.tenant, self.client_id, self.secret = (credential.option(f) for f in FIELDS)
        authority = (credential.option("authority") or DEFAULT_AUTHORITY).rstrip("/")
        self.url = f"{authority}/{self.tenant}/oauth2/v2.0/token"
        self.timeout = httpx2.Timeout(min(credential.timeout, 30.0),
                                      connect=credential.connect_timeout)
        self.http: httpx2.Client | None = None  # the handler's, set once it has one
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def configured(credential: Credential) -> bool:
        """Whether the credential names a service principal (all of its three fields)."""
        return all(credential.option(f) for f in FIELDS)

    def token(self) -> str:
        """A valid access token, fetched when there is none or it nears its expiry."""
        if self._token is None or self.clock() >= self._expires:
            with self._lock:
                if self._token is None or self.clock() >= self._expires:
                    self._fetch()
        return self._token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def _fetch(self) -> None:
        name = self.vendor
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.secret, "scope": SCOPE}
        try:
            response = self.http.post(self.url, data=form, timeout=self.timeout)
            body = response.json() if response.content else {}
        except httpx2.TimeoutException:
            raise VendorTimeout(f"Entra did not answer {name}'s token request in time",
                                vendor=name) from None
        except (httpx2.TransportError, json.JSONDecodeError):
            raise VendorUnavailable(f"could not get an Entra token for {name}",
                                    vendor=name) from None
        if response.status_code >= 500:
            raise VendorUnavailable(f"Entra answered {response.status_code} to {name}'s token "
                                    "request", vendor=name)
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code >= 400 or not isinstance(token, str):
            detail = body.get("error_description") or body.get("error") if isinstance(
                body, dict) else None
            message = f"Entra refused {name}'s service principal"
            if isinstance(detail, str):
                message += ": " + detail.splitlines()[0][:300]
            raise VendorAuthError(scrub(message, self.secret), vendor=name)
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float, str)) and str(
            expires_in).replace(".", "", 1).isdigit() else 3600.0
        self._token = token
        self._expires = self.clock() + max(lifetime - REFRESH_MARGIN, lifetime / 2)
