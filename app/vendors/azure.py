"""Azure OpenAI: the OpenAI adapter on the ``openai`` SDK's ``AzureOpenAI`` client.

A route's upstream model is the Azure deployment name: calls go to
``{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`` with the key
in the ``api-key`` header, as the SDK sends them. The credential's ``api_version`` field picks
the API version (``DEFAULT_API_VERSION`` when empty).
"""

from __future__ import annotations

import threading
from urllib.parse import quote, urlencode

from app.vendors.openai import OpenAIHandler
from app.vendors.sender import Endpoint
from app.vendors.types import Credential

DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIHandler(OpenAIHandler):
    client_class = "AzureOpenAI"

    def __init__(self, credential: Credential):
        self._deployments: dict[tuple[str, str], Endpoint] = {}
        self._lock = threading.Lock()
        super().__init__(credential)

    def client_options(self, credential: Credential) -> dict:
        return {"api_key": credential.api_key, "azure_endpoint": credential.base_url,
                "api_version": self.api_version}

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
