"""The vendor manager: normalised types, one adapter per vendor, a registry and the router.

Nothing in this package knows Flask, a request or the database. How the SDK clients' HTTP
transport, the prepared sender and the stall watchdog work together: ``transport.py``.
"""

from app.vendors import _sdk_extras  # noqa: F401  (first: before any SDK is imported)
from app.vendors.catalog import Catalog, ModelInfo, Route
from app.vendors.errors import UnknownModelError, VendorError
from app.vendors.manager import RetryPolicy, VendorManager
from app.vendors.registry import (
    HANDLERS,
    KINDS,
    STORABLE_KINDS,
    WIRE_FORMATS,
    HandlerPool,
    VendorKind,
)
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Credential,
    Delta,
    OutputFormat,
    Part,
    Reasoning,
    Result,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
    dropped_fields,
)

__all__ = [
    "HANDLERS",
    "KINDS",
    "STORABLE_KINDS",
    "VendorKind",
    "WIRE_FORMATS",
    "Catalog",
    "ChatMessage",
    "ChatRequest",
    "Credential",
    "Delta",
    "HandlerPool",
    "ModelInfo",
    "OutputFormat",
    "Part",
    "Reasoning",
    "Result",
    "RetryPolicy",
    "Route",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "UnknownModelError",
    "Usage",
    "VendorError",
    "VendorManager",
    "dropped_fields",
]
