"""Codex CLI (`codex exec`) finishes a turn with one shell call through Parlor's Responses API."""

from __future__ import annotations

import pytest

from tests.agents.conftest import FAKE_ANSWER, TOOL_MARKER, assert_tool_result_went_upstream

pytestmark = pytest.mark.agents

# An OpenAI vendor and an Anthropic vendor: /v1/responses translated to each one's API.
MODELS = ["openai/tool-call", "anthropic/tool-call"]


@pytest.mark.parametrize("model", MODELS)
def test_codex_exec_runs_a_command_and_answers_with_its_output(run_codex, fake_vendor, model):
    run = run_codex(model)

    assert run.returncode == 0, run.explain()
    assert FAKE_ANSWER in run.stdout and TOOL_MARKER in run.stdout, run.explain()
    assert_tool_result_went_upstream(fake_vendor, run)


@pytest.mark.parametrize("model", MODELS)
def test_codex_exec_json_shows_the_command_and_the_final_message(run_codex, fake_vendor, model):
    run = run_codex(model, "--json")
    events = run.json_lines()
    completed = [e["item"] for e in events if e.get("type") == "item.completed"]
    commands = [item for item in completed if item.get("type") == "command_execution"]
    messages = [item for item in completed if item.get("type") == "agent_message"]

    assert run.returncode == 0, run.explain()
    assert any(e.get("type") == "turn.completed" for e in events), run.explain()
    assert not any(e.get("type") in ("turn.failed", "error") for e in events), run.explain()
    assert len(commands) == 1 and commands[0]["exit_code"] == 0, run.explain()
    assert TOOL_MARKER in commands[0]["aggregated_output"], run.explain()
    assert messages and FAKE_ANSWER in messages[-1]["text"], run.explain()
    assert_tool_result_went_upstream(fake_vendor, run)
