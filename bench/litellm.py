"""LiteLLM proxy as a benchmark peer: install it into its own throw-away venv, start and stop it.

LiteLLM is never a dependency of Parlor. It lives in `.bench/litellm-venv` (git-ignored), is
pinned exactly (later releases fail to install here; 1.82.7/1.82.8 were malicious), is installed
once (a stamp file marks a finished install) and runs with a scrubbed environment: no vendor
keys, no DATABASE_URL, loopback only, the bundled model cost map, a random master key.

    python -m bench.litellm install     # what `python -m bench.compare` does first
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.servers import ROOT, free_port, stop, wait_http

VERSION = "1.106.12"
REQUIREMENT = f"litellm[proxy]=={VERSION}"
DEFAULT_VENV = ROOT / ".bench" / "litellm-venv"
MODEL = "bench-model"
# Passed through to pip only: how this machine reaches the package index (no secrets of ours).
_PIP_ENV = ("HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
            "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def _scrubbed(extra: dict | None = None, pip: bool = False) -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": os.environ.get("LANG", "C.UTF-8")}
    if pip:
        env.update({k: v for k, v in os.environ.items()
                    if k in _PIP_ENV or k.startswith("PIP_")})
    env.update(extra or {})
    return env


def _base_python() -> str:
    """The interpreter behind the running venv (a venv made from a venv's python is fine too)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def install(venv: Path = DEFAULT_VENV, quiet: bool = True) -> Path:
    """Create the venv and install LiteLLM unless a finished install is already there."""
    stamp = venv / f".installed-{VERSION}"
    python = venv / "bin" / "python"
    if stamp.exists() and python.exists():
        return venv
    if venv.exists():
        shutil.rmtree(venv)  # a half-finished or other-version install: start clean
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"installing {REQUIREMENT} into {venv} (once; takes a minute)", file=sys.stderr)
    subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, env=_scrubbed())
    pip = [str(python), "-m", "pip", "install", *(["--quiet"] if quiet else [])]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, env=_scrubbed(pip=True))
    subprocess.run([*pip, REQUIREMENT], check=True, env=_scrubbed(pip=True))
    stamp.write_text(REQUIREMENT + "\n")
    return venv


def write_config(path: Path, upstream_port: int) -> None:
    """`model_list` entry `openai/bench-model` → the fake upstream; no retries, no callbacks.
    JSON is valid YAML, so no YAML library is needed to write it."""
    config = {
        "model_list": [{"model_name": f"openai/{MODEL}",
                        "litellm_params": {"model": f"openai/{MODEL}",
                                           "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                                           "api_key": "sk-bench-upstream-key"}}],
        "litellm_settings": {"num_retries": 0, "callbacks": [], "request_timeout": 600,
                             "set_verbose": False},
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }
    path.write_text(json.dumps(config, indent=2))


def start(venv: Path, workdir: Path, upstream_port: int,
          workers: int) -> tuple[subprocess.Popen, int, str]:
    """Start the proxy with `workers` worker processes; return (process, port, master key)."""
    config = workdir / "litellm-config.yaml"
    write_config(config, upstream_port)
    key = "sk-" + secrets.token_hex(24)
    home = workdir / "litellm-home"
    home.mkdir(exist_ok=True)
    env = _scrubbed({
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LITELLM_MASTER_KEY": key,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",       # no fetch of the cost map from GitHub
        "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "true",
        "LITELLM_DONT_SHOW_FEEDBACK_BOX": "true",
        "LITELLM_LOG": "ERROR",
        "PYTHONUNBUFFERED": "1",  # the startup lines reach the log as they happen
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    })
    port = free_port()
    log = workdir / "litellm.log"  # a file, not a pipe: nobody drains a pipe while it runs
    command = [str(venv / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1",
               "--port", str(port), "--num_workers", str(workers)]
    if workers > 1:
        # uvicorn's supervisor kills a worker that is not serving within 5 s of its start;
        # importing LiteLLM takes longer than that on a busy 2-core machine.
        command += ["--timeout_worker_healthcheck", "120"]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=workdir, env=env, start_new_session=True,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_ready(process, log, port, workers, timeout=180)
    except RuntimeError:
        stop(process)
        raise RuntimeError("LiteLLM did not start: " + log.read_text()[-2000:]) from None
    return process, port, key


def _wait_ready(process: subprocess.Popen, log: Path, port: int, workers: int,
                timeout: float) -> None:
    """Until every worker has printed LiteLLM's startup line and the proxy answers.
    (uvicorn's own "startup complete" is silenced by LITELLM_LOG=ERROR.)"""
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count("Proxy initialized with Config") < workers:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.5)
    wait_http(f"http://127.0.0.1:{port}/health/liveliness",
              timeout=max(1.0, deadline - time.monotonic()))


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m bench.litellm install")
    print(install(quiet=False))
