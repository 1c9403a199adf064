"""Factory of vendor handlers: one registry line per vendor kind, one handler per credential.

Each kind declares, once, what everything else derives from: its label (the admin form's
choice), its adapter, the wire format it speaks natively, and the fields a stored credential
of that kind needs (the admin form, the admin REST schema and the credential checks read them).

Adapters are imported when a credential of their kind is first used: each vendor SDK with
its models costs a worker 40 MB or more, so a deployment pays only for the vendors it has.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from app.vendors.base import VendorHandler
from app.vendors.types import Credential


@dataclass(frozen=True)
class VendorKind:
    """A kind of vendor Parlor can call."""

    name: str
    label: str
    adapter: str  # "module:Class", imported on first use
    # The wire format the kind speaks natively: a client speaking the same one has its
    # uninterpreted fields forwarded unchanged (None: no native format, everything translated).
    wire_format: str | None
    needs_api_key: bool = True  # a stored credential of this kind must carry a key
    needs_base_url: bool = False  # ... or its base URL
    storable: bool = True  # False: configured by the environment only (not in the admin form)


KINDS: dict[str, VendorKind] = {kind.name: kind for kind in (
    VendorKind("openai", "OpenAI", "app.vendors.openai:OpenAIHandler", "openai"),
    VendorKind("anthropic", "Anthropic", "app.vendors.anthropic:AnthropicHandler", "anthropic"),
    VendorKind("openai-compatible", "OpenAI-compatible", "app.vendors.openai:OpenAIHandler",
               "openai", needs_api_key=False, needs_base_url=True),
    VendorKind("mock", "Mock (offline)", "app.vendors.mock:MockHandler", None,
               needs_api_key=False, storable=False),
)}
STORABLE_KINDS = tuple(name for name, kind in KINDS.items() if kind.storable)
ADAPTERS = {name: kind.adapter for name, kind in KINDS.items()}
WIRE_FORMATS: dict[str, str | None] = {name: kind.wire_format for name, kind in KINDS.items()}


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
