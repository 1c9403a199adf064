"""The JSON audience: OpenAI- and Anthropic-compatible /v1 and the native /api/v1 (API keys)."""

from app.api import anthropic_compat, openai_compat

BLUEPRINTS: list = [openai_compat.bp, anthropic_compat.bp]
