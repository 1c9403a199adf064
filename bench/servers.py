"""Start and stop the processes a benchmark measures: the fake upstream and Parlor (gunicorn)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
BENCH_VENDOR_KEY = "sk-bench-upstream-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def start_upstream(chunks: int, chunk_delay: float) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.upstream", "--port", str(port), "--chunks", str(chunks),
         "--chunk-delay", str(chunk_delay)],
        cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/v1/models")
    return process, port


def parlor_env(workdir: Path, upstream_port: int, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PARLOR_", "OPENAI_", "ANTHROPIC_"))}
    env.update({
        "PARLOR_INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": database_url or f"sqlite:///{workdir}/bench.db",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
        "OPENAI_API_KEY": BENCH_VENDOR_KEY,
        "PARLOR_MOCK_VENDOR": "off",
        "PARLOR_RATE_LIMIT": "1000000/minute",
        "LOG_LEVEL": "WARNING",
    })
    return env


def flask(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([str(VENV_BIN / "flask"), "--app", "run", *args], cwd=ROOT, env=env,
                            input=stdin, text=True, capture_output=True, check=True)
    return result.stdout


def prepare_parlor(env: dict) -> str:
    """Migrate, create a user and return a fresh API key."""
    flask(env, "db", "upgrade")
    try:
        flask(env, "users", "create", "bench@example.com", "--password-stdin",
              stdin="bench-password\n")
    except subprocess.CalledProcessError:
        pass  # already there from an earlier run against the same database
    return flask(env, "keys", "create", "bench@example.com", "--name", "bench").split()[-1]


def start_parlor(env: dict, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**env, "WEB_CONCURRENCY": str(workers)}
    # Its log goes to a file beside the instance folder: a pipe nobody reads during the run
    # fills after 64 KB, and then every worker that logs blocks with its streams.
    log = Path(env["PARLOR_INSTANCE_PATH"]).parent / f"parlor-{port}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind",
             f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=handle)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
    except RuntimeError:
        stop(process)
        raise RuntimeError("Parlor did not start: "
                           + log.read_text(errors="replace")[-2000:]) from None
    return process, port


def worker_rss_mb(master_pid: int) -> list[float]:
    """Resident memory of each worker (children of the master; the master itself when it
    serves alone, as a one-worker uvicorn does)."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []
    children = children or [str(master_pid)]
    sizes = []
    for pid in children:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return sizes
