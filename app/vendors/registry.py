"""Factory of vendor handlers: one registry line per vendor kind, one handler per credential.

Adapters are imported when a credential of their kind is first used: each vendor SDK with
its models costs a worker 40 MB or more, so a deployment pays only for the vendors it has.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping

from app.vendors.base import VendorHandler
from app.vendors.types import Credential

ADAPTERS = {
    "openai": "app.vendors.openai:OpenAIHandler",
    "openai-compatible": "app.vendors.openai:OpenAIHandler",
    "anthropic": "app.vendors.anthropic:AnthropicHandler",
    "mock": "app.vendors.mock:MockHandler",
}
# The wire format each kind speaks natively: a client speaking the same one has its
# uninterpreted fields forwarded unchanged (None: no native format, everything translated).
WIRE_FORMATS: dict[str, str | None] = {
    "openai": "openai",
    "openai-compatible": "openai",
    "anthropic": "anthropic",
    "mock": None,
}


class _Handlers(Mapping):
    """Vendor kind -> handler class, importing the adapter on first look-up."""

    def __getitem__(self, kind: str) -> type[VendorHandler]:
        module, _, name = ADAPTERS[kind].partition(":")
        return getattr(importlib.import_module(module), name)

    def __iter__(self):
        return iter(ADAPTERS)

    def __len__(self) -> int:
        return len(ADAPTERS)


HANDLERS: Mapping[str, type[VendorHandler]] = _Handlers()


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
