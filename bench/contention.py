"""The stream burst with CPU hogs beside it: what Parlor sheds (503) and what fails.

A busy machine must cost clients a fast, explicit refusal they can retry (503 with
``Retry-After``, app/admission.py), never a dropped connection. Each stream ends as one of:
ok (200 and the stream's end seen), shed (503) or failed (a reset, a timeout, any other status,
or a stream cut short).

    python -m bench.contention --streams 200   # a standalone run against its own servers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

STREAM_TIMEOUT = 120.0  # seconds a stream may take before it counts as failed
END_MARKER = b"[DONE]"


@dataclass
class ContentionRun:
    n: int
    hogs: int
    ok: int = 0
    shed: int = 0
    failed: int = 0
    causes: Counter = field(default_factory=Counter)  # why the failed ones failed
    ttft: list[float] = field(default_factory=list)
    wall: float = 0.0

    @property
    def ttft_p50_ms(self) -> float:
        return 1000 * statistics.median(self.ttft) if self.ttft else float("nan")


@contextmanager
def cpu_hogs(count: int):
    """``count`` processes spinning on the CPU (never sleeping) for as long as the block runs."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield hogs
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait(timeout=5)


@contextmanager
def _ahead_of_the_hogs():
    """The load generator stands in for clients on other machines: it runs at a higher
    priority (nice -5, where permitted), so a request reaches Parlor when the client sends it,
    not seconds later (gunicorn drops a connection whose request has not come within its 5 s
    keep-alive, which would count a starved load generator as Parlor's failure)."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, before - 5)
    except OSError:
        pass  # not permitted: measured as it is
    try:
        yield
    finally:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, before)
        except OSError:
            pass


async def _one(host: str, port: int, headers: dict, body: bytes, start: float):
    """("ok", ttft) | ("shed", None) | ("failed", cause)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = ["POST /v1/chat/completions HTTP/1.1", f"Host: {host}:{port}",
                "Connection: close", "Content-Type: application/json",
                f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status = await reader.readline()
        if b" 503 " in status:
            return "shed", None
        if b" 200 " not in status:
            return "failed", f"status {status.split(b' ')[1:2]}"
        seen, first = b"", None
        while True:
            data = await reader.read(65536)
            if not data:
                return "failed", "stream cut short"
            if first is None and b'"content":"w' in data:
                first = time.perf_counter() - start
            window = seen + data
            if END_MARKER in window:
                return "ok", first
            seen = window[-64:]
    finally:
        writer.close()


async def _guarded(host, port, headers, body, start):
    try:
        return await asyncio.wait_for(_one(host, port, headers, body, start), STREAM_TIMEOUT)
    except TimeoutError:
        return "failed", "timeout"
    except OSError as exc:  # refused, reset
        return "failed", type(exc).__name__


async def _burst(host, port, headers, n, model) -> list[tuple[str, object]]:
    body = json.dumps({"model": model, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    start = time.perf_counter()
    return await asyncio.gather(*[_guarded(host, port, headers, body, start) for _ in range(n)])


def run(host: str, port: int, headers: dict, n: int, model: str,
        hogs: int | None = None) -> ContentionRun:
    """``n`` concurrent streams while ``hogs`` processes (default: one per core) spin."""
    if hogs is None:
        hogs = os.cpu_count() or 1
    with cpu_hogs(hogs), _ahead_of_the_hogs():
        time.sleep(0.5)  # the hogs are spinning before the burst starts
        started = time.perf_counter()
        results = asyncio.run(_burst(host, port, headers, n, model))
        wall = time.perf_counter() - started
    outcome = ContentionRun(n=n, hogs=hogs, wall=wall)
    for kind, detail in results:
        if kind == "ok":
            outcome.ok += 1
            if detail is not None:
                outcome.ttft.append(detail)
        elif kind == "shed":
            outcome.shed += 1
        else:
            outcome.failed += 1
            outcome.causes[detail] += 1
    return outcome


def row(result: ContentionRun) -> tuple[str, str]:
    """The Markdown table row of a run."""
    causes = f" ({', '.join(f'{k}: {v}' for k, v in result.causes.items())})" \
        if result.causes else ""
    ttft = "n/a" if not result.ttft else f"{result.ttft_p50_ms:.1f}"
    return (f"{result.n} streams beside {result.hogs} CPU hogs: ok, shed (503), failed, "
            f"TTFT p50 (ms), wall (s)",
            f"{result.ok}, {result.shed}, {result.failed}{causes}, {ttft}, {result.wall:.2f}")


def main() -> int:
    from bench import servers

    parser = argparse.ArgumentParser(prog="python -m bench.contention")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hogs", type=int, default=None)
    parser.add_argument("--max-lag-ms", default=None, help="PARLOR_MAX_LOOP_LAG_MS for Parlor")
    parser.add_argument("--max-requests", default=None,
                        help="PARLOR_MAX_CONCURRENT_REQUESTS for Parlor")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parlor-contention-") as tmp:
        upstream, upstream_port = servers.start_upstream(20, 0.1)
        env = servers.parlor_env(Path(tmp), upstream_port, None)
        for name, value in (("PARLOR_MAX_LOOP_LAG_MS", args.max_lag_ms),
                            ("PARLOR_MAX_CONCURRENT_REQUESTS", args.max_requests)):
            if value is not None:
                env[name] = value
        key = servers.prepare_parlor(env)
        parlor, port = servers.start_parlor(env, args.workers)
        try:
            result = run("127.0.0.1", port, {"Authorization": f"Bearer {key}"}, args.streams,
                         "openai/bench-model", args.hogs)
        finally:
            servers.stop(parlor)
            servers.stop(upstream)
    label, value = row(result)
    print(f"| {label} | {value} |")
    print(f"contention_shed={result.shed} contention_failed={result.failed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
