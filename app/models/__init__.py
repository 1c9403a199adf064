"""Typed SQLAlchemy 2.0 models: data only, no queries and no business rules."""

from app.models.accounts import ApiKey, Role, User
from app.models.attachments import Attachment, message_attachments
from app.models.audit import AuditEvent
from app.models.chat import Conversation, Message, MessageStatus
from app.models.identity import UserIdentity
from app.models.responses import StoredResponse
from app.models.teams import Team
from app.models.usage import UsageDaily, UsageRecord
from app.models.usage_tags import UsageDailyTag
from app.models.vendors import ModelRoute, VendorCredential, model_route_roles

__all__ = [
    "ApiKey",
    "Attachment",
    "AuditEvent",
    "Conversation",
    "Message",
    "MessageStatus",
    "ModelRoute",
    "Role",
    "StoredResponse",
    "Team",
    "UsageDaily",
    "UsageDailyTag",
    "UsageRecord",
    "User",
    "UserIdentity",
    "VendorCredential",
    "message_attachments",
    "model_route_roles",
]
