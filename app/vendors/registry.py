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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from app.vendors.base import VendorHandler
from app.vendors.types import Credential


@dataclass(frozen=True)
class VendorField:
    """A value a credential of some kind carries besides its name and kind.

    ``api_key`` and ``base_url`` are the credential's own (``Credential.api_key`` and
    ``.base_url``); any other name reaches the adapter through ``Credential.option(name)``.
    A ``secret`` field is stored encrypted and never shown back, only masked.
    """

    name: str
    label: str
    secret: bool = False
    required: bool = False
    placeholder: str = ""
    input_type: str = "text"  # the HTML input's type: text, url, password


API_KEY = VendorField("api_key", "API key", secret=True, required=True)
BASE_URL = VendorField("base_url", "Base URL", placeholder="empty: the vendor's own API",
                       input_type="url")
OWN_FIELDS = ("api_key", "base_url")  # kept in the credential's own columns
RESERVED = frozenset({"name", "kind", "enabled", "csrf_token", "settings"})


@dataclass(frozen=True)
class VendorKind:
    """A kind of vendor Parlor can call."""

    name: str
    label: str
    adapter: str  # "module:Class", imported on first use
    # The wire format the kind speaks natively: a client speaking the same one has its
    # uninterpreted fields forwarded unchanged (None: no native format, everything translated).
    wire_format: str | None
    # What a stored credential of this kind carries, in the admin form's order.
    fields: tuple[VendorField, ...] = (API_KEY, BASE_URL)
    storable: bool = True  # False: configured by the environment only (not in the admin form)
    # Ways to authenticate, one of which a stored credential must complete: each a group of
    # field names (empty: the fields' own ``required`` say all).
    one_of: tuple[tuple[str, ...], ...] = ()
    # The kind answers OpenAI's Responses API (POST /responses): /v1/responses goes to it as
    # the client sent it instead of translated to its chat format.
    speaks_responses: bool = False
    # The environment variables that bootstrap a read-only credential of this kind (named
    # after the kind): (field name, variable) pairs. It exists when any variable of
    # ``environment_when`` is set (default: the first pair's variable).
    environment: tuple[tuple[str, str], ...] = ()
    environment_when: tuple[str, ...] = ()
    # The kind the environment credential takes, from the values read (default: this one).
    environment_kind: Callable[[Mapping[str, str | None]], str] | None = field(
        default=None, compare=False)

    def __post_init__(self):
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names) or RESERVED & set(names):
            raise ValueError(f"{self.name}: field names must be unique and not {RESERVED}")
        unknown = ({name for name, _ in self.environment}
                   | {name for group in self.one_of for name in group}) - set(names)
        if unknown:
            raise ValueError(f"{self.name}: undeclared fields named: {unknown}")

    @property
    def environment_variables(self) -> tuple[str, ...]:
        return tuple(variable for _, variable in self.environment)

    def from_environment(self, lookup: Callable[[str], str | None]) -> Credential | None:
        """The read-only credential the environment variables (read by ``lookup``) declare,
        or None when none of those that create one is set. Its key and base URL are the
        credential's own, its other fields its options."""
        values = {name: lookup(variable) for name, variable in self.environment}
        when = self.environment_when or self.environment_variables[:1]
        if not any(lookup(variable) for variable in when):
            return None
        kind = self.environment_kind(values) if self.environment_kind else self.name
        return Credential(
            name=self.name, kind=kind, api_key=values.get("api_key"),
            base_url=values.get("base_url"), read_only=True,
            options=tuple((name, value) for name, value in values.items()
                          if name not in OWN_FIELDS and value))

    def field(self, name: str) -> VendorField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def needs_api_key(self) -> bool:  # a stored credential of this kind must carry a key
        return bool((f := self.field("api_key")) and f.required)

    @property
    def needs_base_url(self) -> bool:  # ... or its base URL
        return bool((f := self.field("base_url")) and f.required)

    @property
    def extra_fields(self) -> tuple[VendorField, ...]:
        """The fields kept in the credential's settings (secret ones encrypted)."""
        return tuple(f for f in self.fields if f.name not in OWN_FIELDS)


def _openai_or_compatible(values: Mapping[str, str | None]) -> str:
    """OPENAI_BASE_URL pointing anywhere but OpenAI's API makes an OpenAI-compatible vendor."""
    base_url = values.get("base_url")
    return "openai" if not base_url or "api.openai.com" in base_url else "openai-compatible"


KINDS: dict[str, VendorKind] = {kind.name: kind for kind in (
    VendorKind("openai", "OpenAI", "app.vendors.openai:OpenAIHandler", "openai",
               speaks_responses=True,
               environment=(("api_key", "OPENAI_API_KEY"), ("base_url", "OPENAI_BASE_URL")),
               environment_when=("OPENAI_API_KEY", "OPENAI_BASE_URL"),
               environment_kind=_openai_or_compatible),
    VendorKind("anthropic", "Anthropic", "app.vendors.anthropic:AnthropicHandler", "anthropic",
               environment=(("api_key", "ANTHROPIC_API_KEY"),
                            ("base_url", "ANTHROPIC_BASE_URL"))),
    VendorKind("openai-compatible", "OpenAI-compatible", "app.vendors.openai:OpenAIHandler",
               "openai", fields=(replace(API_KEY, required=False),
                                 replace(BASE_URL, required=True, placeholder=""))),
    VendorKind("azure", "Azure OpenAI", "app.vendors.azure:AzureOpenAIHandler", "openai",
               fields=(replace(API_KEY, required=False),
                       replace(BASE_URL, required=True, placeholder=""),
                       VendorField("api_version", "API version", placeholder="2024-10-21"),
                       # Entra ID instead of a key: a service principal (app/vendors/entra.py)
                       VendorField("tenant_id", "Entra tenant ID",
                                   placeholder="instead of an API key"),
                       VendorField("client_id", "Entra client ID"),
                       VendorField("client_secret", "Entra client secret", secret=True,
                                   input_type="password"),
                       VendorField("authority", "Entra authority", input_type="url",
                                   placeholder="https://login.microsoftonline.com")),
               one_of=(("api_key",), ("tenant_id", "client_id", "client_secret")),
               environment=(("api_key", "AZURE_OPENAI_API_KEY"),
                            ("base_url", "AZURE_OPENAI_ENDPOINT"),
                            ("api_version", "OPENAI_API_VERSION"),
                            ("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"),
                            ("client_secret", "AZURE_CLIENT_SECRET"),
                            ("authority", "AZURE_AUTHORITY_HOST")),
               environment_when=("AZURE_OPENAI_ENDPOINT",)),
    VendorKind("gemini", "Google Gemini", "app.vendors.gemini:GeminiHandler", None,
               environment=(("api_key", "GEMINI_API_KEY"), ("base_url", "GEMINI_BASE_URL"))),
    VendorKind("bedrock", "AWS Bedrock", "app.vendors.bedrock:BedrockHandler", None, fields=(
        VendorField("region", "AWS region", required=True, placeholder="us-east-1"),
        VendorField("aws_access_key_id", "AWS access key ID", required=True),
        VendorField("aws_secret_access_key", "AWS secret access key", secret=True,
                    required=True),
        VendorField("aws_session_token", "AWS session token", secret=True),
        replace(BASE_URL, placeholder="empty: the region's Bedrock endpoint")),
        environment=(("region", "BEDROCK_REGION"), ("aws_access_key_id", "AWS_ACCESS_KEY_ID"),
                     ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
                     ("aws_session_token", "AWS_SESSION_TOKEN"),
                     ("base_url", "BEDROCK_BASE_URL"))),
    VendorKind("mock", "Mock (offline)", "app.vendors.mock:MockHandler", None, fields=(),
               storable=False),
)}
FIELDS: dict[str, VendorField] = {}  # every declared field by name (the admin form's inputs)
for _kind in KINDS.values():
    for _field in _kind.fields:
        FIELDS.setdefault(_field.name, _field)
STORABLE_KINDS = tuple(name for name, kind in KINDS.items() if kind.storable)
ADAPTERS = {name: kind.adapter for name, kind in KINDS.items()}
WIRE_FORMATS: dict[str, str | None] = {name: kind.wire_format for name, kind in KINDS.items()}
RESPONSES_KINDS = frozenset(name for name, kind in KINDS.items() if kind.speaks_responses)


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
