"""Which reasoning option a model's route takes: an effort for OpenAI-type reasoning models, a
thinking budget for Anthropic-type thinking models, none for plain models (services/
model_reasoning.py; the Options panel and the vendor request follow it)."""

from __future__ import annotations

import pytest

from app.services.model_reasoning import BUDGET, EFFORT, budget_label, control_for


@pytest.mark.parametrize(("kind", "upstream", "expected"), [
    ("openai", "o3-mini", EFFORT),
    ("openai", "gpt-5", EFFORT),
    ("openai", "gpt-5-chat-latest", None),
    ("openai", "gpt-4o", None),
    ("openai-compatible", "deepseek-reasoner", EFFORT),
    ("openai-compatible", "openai/o4-mini", EFFORT),
    ("openai-compatible", "llama-3.1-8b", None),
    ("azure", "o1", EFFORT),
    ("anthropic", "claude-sonnet-4-5", BUDGET),
    ("anthropic", "claude-3-7-sonnet-latest", BUDGET),
    ("anthropic", "claude-3-5-haiku-latest", None),
    ("bedrock", "us.anthropic.claude-opus-4-1-20250805-v1:0", BUDGET),
    ("bedrock", "amazon.nova-pro-v1:0", None),
    ("gemini", "gemini-2.5-flash", BUDGET),
    ("gemini", "gemini-2.0-flash", None),
    ("mock", "echo", None),
])
def test_known_models_take_the_option_of_their_vendor_kind(kind, upstream, expected):
    assert control_for(kind, upstream) == expected


def test_a_route_marked_reasoning_takes_it_whatever_its_name():
    assert control_for("openai-compatible", "house-model", ["reasoning"]) == EFFORT
    assert control_for("anthropic", "house-model", ["reasoning", "images"]) == BUDGET
    assert control_for("openai-compatible", "house-model", ["images"]) is None


def test_budgets_are_labelled_in_tokens():
    assert budget_label("medium") == "8,192 tokens"
    assert budget_label("xhigh") == "32,000 tokens"
