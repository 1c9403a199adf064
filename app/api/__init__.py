"""The JSON audience: OpenAI- and Anthropic-compatible /v1 and the native /api/v1 (API keys)."""

BLUEPRINTS: list = []
