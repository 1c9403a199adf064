"""Azure OpenAI: the OpenAI adapter on the ``openai`` SDK's ``AzureOpenAI`` client.

A route's upstream model is the Azure deployment name: calls go to
``{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`` with the key
in the ``api-key`` header, as the SDK sends them. The credential's ``api_version`` field picks
the API version (``DEFAULT_API_VERSION`` when empty).

Instead of a key, a Microsoft Entra service principal (``tenant_id``, ``client_id``,
``client_secret``; ``authority`` for another cloud) authenticates: its token, fetched with the
client-credentials grant and kept until near expiry (``entra.py``), goes in
``Authorization: Bearer``, as the SDK's ``azure_ad_token_provider`` sends it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import quote, urlencode

from app.vendors.entra import EntraTokens
from app.vendors.openai import OpenAIHandler
from app.vendors.sender import Endpoint
from app.vendors.types import Credential

DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIHandler(OpenAIHandler):
    client_class = "AzureOpenAI"

    def __init__(self, credential: Credential):
        self._deployments: dict[tuple[str, str], Endpoint] = {}
        self._lock = threading.Lock()
        self.entra = EntraTokens(credential) if EntraTokens.configured(credential) else None
        super().__init__(credential)
        if self.entra is not None:
            self.entra.http = self.http

    def client_options(self, credential: Credential) -> dict:
        options = {"azure_endpoint": credential.base_url, "api_version": self.api_version}
        if self.entra is not None:
            return options | {"azure_ad_token_provider": self.entra.token}
        # no key at all: Azure's 401 says so (the SDK would read AZURE_OPENAI_API_KEY instead)
        return options | {"api_key": credential.api_key or "not-set"}

    def call_auth(self) -> Callable[[], dict[str, str]] | None:
        return None if self.entra is None else self.entra.headers

    @property
    def api_version(self) -> str:
        return self.credential.option("api_version") or DEFAULT_API_VERSION

    def _deployment(self, model: str, path: str) -> Endpoint:
        """The endpoint of one deployment's ``path``, prepared once."""
        key = (model, path)
        endpoint = self._deployments.get(key)
        if endpoint is None:
            query = urlencode({"api-version": self.api_version})
            endpoint = self.endpoint(f"/deployments/{quote(model, safe='')}{path}?{query}")
            with self._lock:
                self._deployments.setdefault(key, endpoint)
        return endpoint

    def completions_for(self, model: str) -> Endpoint:
        return self._deployment(model, "/chat/completions")

    def embeddings_for(self, model: str) -> Endpoint:
        return self._deployment(model, "/embeddings")
