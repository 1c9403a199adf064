"""Claude Code (`claude -p`) finishes a turn with one Bash call through Parlor's Messages API."""

from __future__ import annotations

import pytest

from tests.agents.conftest import FAKE_ANSWER, TOOL_MARKER, assert_tool_result_went_upstream

pytestmark = pytest.mark.agents

# An Anthropic vendor (same format, forwarded) and an OpenAI vendor (translated).
MODELS = ["anthropic/tool-call", "openai/tool-call"]


@pytest.mark.parametrize("model", MODELS)
def test_claude_code_print_runs_bash_and_answers_with_its_output(run_claude, fake_vendor, model):
    run = run_claude(model)

    assert run.returncode == 0, run.explain()
    assert FAKE_ANSWER in run.stdout and TOOL_MARKER in run.stdout, run.explain()
    assert_tool_result_went_upstream(fake_vendor, run)


@pytest.mark.parametrize("model", MODELS)
def test_claude_code_stream_json_shows_the_bash_call_and_its_result(run_claude, fake_vendor,
                                                                    model):
    run = run_claude(model, "--output-format", "stream-json", "--verbose")
    events = run.json_lines()
    results = [e for e in events if e.get("type") == "result"]
    blocks = [(e["type"], block) for e in events if e.get("type") in ("assistant", "user")
              for block in e["message"]["content"] if isinstance(block, dict)]
    tool_uses = [b for kind, b in blocks if kind == "assistant" and b.get("type") == "tool_use"]
    tool_results = [b for kind, b in blocks if kind == "user" and b.get("type") == "tool_result"]

    assert run.returncode == 0, run.explain()
    assert results and results[-1]["subtype"] == "success", run.explain()
    assert not results[-1]["is_error"] and results[-1]["num_turns"] == 2, run.explain()
    assert [use["name"] for use in tool_uses] == ["Bash"], run.explain()
    assert [r["tool_use_id"] for r in tool_results] == [tool_uses[0]["id"]], run.explain()
    assert not tool_results[0].get("is_error"), run.explain()
    assert TOOL_MARKER in str(tool_results[0]["content"]), run.explain()
    assert FAKE_ANSWER in results[-1]["result"], run.explain()
    assert_tool_result_went_upstream(fake_vendor, run)
