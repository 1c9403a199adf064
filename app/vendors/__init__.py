"""The vendor manager: normalised types, one adapter per vendor, a registry and the router.

Nothing in this package knows Flask, a request or the database.
"""

from app.vendors.catalog import Catalog, ModelInfo, Route
from app.vendors.errors import UnknownModelError, VendorError
from app.vendors.manager import RetryPolicy, VendorManager
from app.vendors.registry import HANDLERS, HandlerPool
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Credential,
    Delta,
    Result,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)

__all__ = [
    "HANDLERS",
    "Catalog",
    "ChatMessage",
    "ChatRequest",
    "Credential",
    "Delta",
    "HandlerPool",
    "ModelInfo",
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
]
