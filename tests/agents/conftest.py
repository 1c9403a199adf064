"""Real coding agents (Claude Code, Codex CLI) run against Parlor, with the fake vendor behind it.

The agents come from the npm registry through ``tests/agents/install.sh`` (a cache outside the
repo). Each run gets a temporary HOME and config directory and an environment built from
scratch, so nothing of the host's (keys, logins, settings) reaches the agent, and telemetry,
auto-update, error reporting and plugin sync are off. See /work/notes/agents.md.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL = Path(__file__).resolve().parent / "install.sh"
AGENT_TIMEOUT = 180  # seconds for one agent run: a hung agent fails the test, not the suite
TOOL_MARKER = "parlor-tool-ok"
FAKE_ANSWER = "Tool said:"  # how the fake's tool-call model answers once it has the result
PROMPT = f"Run the shell command `echo {TOOL_MARKER}` and tell me what it printed."
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


@pytest.fixture(scope="session")
def agent_bin() -> Path:
    """The cache's bin directory, installing the pinned agents first when missing."""
    try:
        done = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True,
                              timeout=600, check=True)
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"tests/agents/install.sh failed:\n{exc.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def app(make_app, fake_vendor):
    """Parlor with both vendors pointing at the fake (an OpenAI and an Anthropic vendor)."""
    return make_app(
        OPENAI_BASE_URL=fake_vendor.openai_base_url, OPENAI_API_KEY=fake_vendor.api_key,
        ANTHROPIC_BASE_URL=fake_vendor.anthropic_base_url, ANTHROPIC_API_KEY=fake_vendor.api_key,
    )


@pytest.fixture
def parlor_key(make_key) -> str:
    return make_key()


@dataclass
class AgentRun:
    """One finished agent process: what it printed and how it ended."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str

    def explain(self) -> str:
        """The run's output for an assertion message."""
        return (f"$ {' '.join(self.command[:3])} ... -> exit {self.returncode}\n"
                f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}")

    def json_lines(self) -> list[dict]:
        """stdout as JSON lines (``--output-format stream-json``), other lines skipped."""
        events = []
        for line in self.stdout.splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events


def run_agent(command: list[str], env: dict[str, str], cwd: Path) -> AgentRun:
    try:
        done = subprocess.run(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=AGENT_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
        pytest.fail(f"{command[0]} did not finish in {AGENT_TIMEOUT}s; stdout so far:\n{out}")
    return AgentRun(command, done.returncode, done.stdout, done.stderr)


@pytest.fixture
def agent_home(tmp_path) -> Path:
    """An empty HOME with a ``work`` folder the agent runs in."""
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    return home


@pytest.fixture
def run_claude(agent_bin, agent_home, live_server, parlor_key):
    """``claude -p PROMPT`` on ``model`` through Parlor's Anthropic API; returns the run."""

    def run(model: str, *flags: str, side_model: str | None = None) -> AgentRun:
        env = {
            "PATH": BASE_PATH, "HOME": str(agent_home), "LANG": "C.UTF-8",
            "CLAUDE_CONFIG_DIR": str(agent_home / ".claude"),
            "ANTHROPIC_BASE_URL": live_server, "ANTHROPIC_AUTH_TOKEN": parlor_key,
            "ANTHROPIC_MODEL": model,
            # Side tasks (titles, summaries) would use the "small fast" model: keep it routed.
            "ANTHROPIC_SMALL_FAST_MODEL": side_model or model,
            "ANTHROPIC_DEFAULT_HAIKU_MODEL": side_model or model,
            "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1",
            "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            # Fail on the first error Parlor gives instead of retrying with back-off.
            "CLAUDE_CODE_MAX_RETRIES": "0",
        }
        command = [str(agent_bin / "claude"), "-p", PROMPT, "--allowedTools", "Bash", *flags]
        return run_agent(command, env, agent_home / "work")

    return run


CODEX_CONFIG = """\
model = "{model}"
model_provider = "parlor"
check_for_update_on_startup = false

[features]
plugins = false

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"

[model_providers.parlor]
name = "Parlor"
base_url = "{base_url}"
env_key = "PARLOR_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


@pytest.fixture
def run_codex(agent_bin, agent_home, live_server, parlor_key):
    """``codex exec PROMPT`` on ``model`` through Parlor's Responses API; returns the run."""

    def run(model: str, *flags: str) -> AgentRun:
        codex_home = agent_home / ".codex"
        codex_home.mkdir(exist_ok=True)
        (codex_home / "config.toml").write_text(
            CODEX_CONFIG.format(model=model, base_url=live_server + "/v1"))
        env = {"PATH": BASE_PATH, "HOME": str(agent_home), "LANG": "C.UTF-8",
               "CODEX_HOME": str(codex_home), "PARLOR_API_KEY": parlor_key}
        # As root in a container Codex's own sandbox cannot start: the test folder is the box.
        command = [str(agent_bin / "codex"), "exec", "--skip-git-repo-check",
                   "--dangerously-bypass-approvals-and-sandbox", *flags, PROMPT]
        return run_agent(command, env, agent_home / "work")

    return run


def upstream_tool_results(fake_vendor) -> list[str]:
    """The text of every tool result Parlor sent to the fake vendor, in any wire format."""
    found = []
    for request in fake_vendor.requests:
        body = request.body if isinstance(request.body, dict) else {}
        for message in body.get("messages") or []:
            if message.get("role") == "tool":
                found.append(_text(message.get("content")))
            elif isinstance(message.get("content"), list):
                found += [_text(block.get("content")) for block in message["content"]
                          if isinstance(block, dict) and block.get("type") == "tool_result"]
        for item in body.get("input") if isinstance(body.get("input"), list) else []:
            if isinstance(item, dict) and item.get("type") == "function_call_output":
                found.append(_text(item.get("output")))
    return found


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text(part.get("text", part.get("content")))
                        for part in content if isinstance(part, dict))
    return ""


def assert_tool_result_went_upstream(fake_vendor, run: AgentRun) -> None:
    """The agent ran the tool and Parlor carried its output back to the vendor."""
    results = upstream_tool_results(fake_vendor)
    assert results, f"no tool result reached the fake vendor\n{run.explain()}"
    assert any(TOOL_MARKER in result for result in results), (
        f"the tool results that reached the fake vendor hold no {TOOL_MARKER!r} (the fake's "
        f"tool-call model must call the agent's shell tool with a valid command): {results}\n"
        f"{run.explain()}")
