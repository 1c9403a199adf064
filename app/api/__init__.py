"""The JSON audience: OpenAI- and Anthropic-compatible /v1 and the native /api/v1 (API keys)."""

from app.api import (
    anthropic_compat,
    conversations,
    docs,
    embeddings,
    keys,
    me,
    messages,
    openai_compat,
    openai_responses,
    usage,
)
from app.api.admin import BLUEPRINTS as ADMIN

BLUEPRINTS: list = [openai_compat.bp, anthropic_compat.bp, openai_responses.bp, embeddings.bp,
                    me.bp, conversations.bp, messages.bp, usage.bp, keys.bp, docs.bp, *ADMIN]
