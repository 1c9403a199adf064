"""Factory of vendor handlers: one registry line per vendor kind, one handler per credential."""

from __future__ import annotations

import threading

from app.vendors.anthropic import AnthropicHandler
from app.vendors.base import VendorHandler
from app.vendors.mock import MockHandler
from app.vendors.openai import OpenAIHandler
from app.vendors.types import Credential

HANDLERS: dict[str, type[VendorHandler]] = {
    "openai": OpenAIHandler,
    "openai-compatible": OpenAIHandler,
    "anthropic": AnthropicHandler,
    "mock": MockHandler,
}


class HandlerPool:
    """Keeps one handler (so one SDK client and its connection pool) per credential."""

    def __init__(self) -> None:
        self._handlers: dict[Credential, VendorHandler] = {}
        self._lock = threading.Lock()

    def get(self, credential: Credential) -> VendorHandler:
        handler = self._handlers.get(credential)
        if handler is None:
            with self._lock:
                handler = self._handlers.get(credential)
                if handler is None:
                    handler = HANDLERS[credential.kind](credential)
                    self._handlers[credential] = handler
        return handler

    def retain(self, credentials) -> None:
        """Close the handlers of credentials that are gone or changed."""
        keep = set(credentials)
        with self._lock:
            for credential in [c for c in self._handlers if c not in keep]:
                self._handlers.pop(credential).close()

    def close(self) -> None:
        self.retain(())
