"""The strategy interface every vendor adapter implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from app.vendors.embeddings import EmbeddingRequest, Embeddings
from app.vendors.errors import VendorBadRequest
from app.vendors.types import ChatRequest, Credential, Delta, Result


class VendorHandler(ABC):
    """One vendor account: lists models, completes and streams normalised requests.

    A handler holds one SDK client for its credential and is reused across requests.
    """

    def __init__(self, credential: Credential):
        self.credential = credential

    @abstractmethod
    def models(self) -> list[str]:
        """Upstream model ids the vendor offers to this credential."""

    @abstractmethod
    def complete(self, request: ChatRequest) -> Result:
        """Run one request to completion."""

    @abstractmethod
    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        """Yield deltas as the vendor sends them, ending with finish reason and usage.

        Closing the iterator closes the upstream request.
        """

    def count_tokens(self, request: ChatRequest) -> int | None:
        """The vendor's own count of the request's input tokens; None when it has no such
        endpoint (the gateway then estimates)."""
        return None

    def embed(self, request: EmbeddingRequest) -> Embeddings:
        """One vector per input; vendors without an embeddings API refuse with a 400."""
        raise VendorBadRequest(
            f"The model {self.credential.name}/{request.model} does not make embeddings: "
            f"{self.credential.name} is a {self.credential.kind} vendor, and only OpenAI-type "
            "vendors do.", vendor=self.credential.name)

    def close(self) -> None:  # noqa: B027 - optional hook; handlers without a client keep it
        """Release the client's connections."""
