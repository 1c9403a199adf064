"""A worker imports a vendor SDK only when a credential of that kind is first used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.vendors import HANDLERS
from app.vendors.anthropic import AnthropicHandler
from app.vendors.openai import OpenAIHandler

ROOT = Path(__file__).resolve().parents[2]


def test_every_vendor_kind_resolves_to_its_adapter_class():
    from app.vendors.azure import AzureOpenAIHandler
    from app.vendors.bedrock import BedrockHandler
    from app.vendors.gemini import GeminiHandler

    assert dict(HANDLERS) == {"openai": OpenAIHandler, "openai-compatible": OpenAIHandler,
                              "anthropic": AnthropicHandler, "azure": AzureOpenAIHandler,
                              "gemini": GeminiHandler, "bedrock": BedrockHandler,
                              "mock": HANDLERS["mock"]}
    assert HANDLERS["mock"].__name__ == "MockHandler"


def test_an_app_with_only_an_openai_vendor_never_imports_the_anthropic_sdk(tmp_path):
    script = f"""
import os, sys
os.environ.update(DATABASE_URL="sqlite:///{tmp_path}/lazy.db", PARLOR_INSTANCE_PATH="{tmp_path}",
                  OPENAI_API_KEY="sk-lazy", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
from config import TestingConfig
from app import create_app
from app.services.vendors import vendor_manager
app = create_app(TestingConfig())
assert "openai" not in sys.modules and "anthropic" not in sys.modules, "imported at start"
from app.vendors import HANDLERS, Credential
HANDLERS["openai"](Credential(name="openai", kind="openai", api_key="sk-lazy"))
assert "openai" in sys.modules
assert "anthropic" not in sys.modules, "the Anthropic SDK came with the OpenAI one"
assert "google.genai" not in sys.modules, "the Gemini SDK came with the OpenAI one"
assert "boto3" not in sys.modules, "boto3 came with the OpenAI SDK"
"""
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)
