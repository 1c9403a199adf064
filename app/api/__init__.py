"""The JSON audience: OpenAI- and Anthropic-compatible /v1 and the native /api/v1 (API keys)."""

from app.api import (
    anthropic_compat,
    attachments,
    auth,
    branches,
    conversations,
    docs,
    embeddings,
    keys,
    me,
    messages,
    openai_compat,
    openai_responses,
    rest_auth,
    usage,
)
from app.api.admin import BLUEPRINTS as ADMIN

WIRE: list = [openai_compat.bp, anthropic_compat.bp, openai_responses.bp, embeddings.bp]
REST: list = [me.bp, conversations.bp, messages.bp, branches.bp, attachments.bp, usage.bp, keys.bp]
BLUEPRINTS: list = [*WIRE, *REST, docs.bp, *ADMIN]

# Rate limits opt in here, after each module added its own hooks: a request is counted once its
# blueprint let the caller through (a refused key or permission is not counted).
for _blueprint in WIRE:
    _blueprint.before_request(auth.count_request)
for _blueprint in (*REST, *ADMIN):
    _blueprint.before_request(rest_auth.count_request)
