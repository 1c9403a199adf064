"""Open N concurrent streamed chat completions and time them (asyncio, raw HTTP/1.1)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass


@dataclass
class StreamRun:
    n: int
    ok: int
    errors: int
    ttft: list[float]
    wall: float

    def ttft_ms(self, q: float) -> float:
        if not self.ttft:
            return float("nan")
        ordered = sorted(self.ttft)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def ttft_p50_ms(self) -> float:
        return 1000 * statistics.median(self.ttft) if self.ttft else float("nan")


async def _one(host: str, port: int, path: str, headers: dict, body: bytes, start: float):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                "Content-Type: application/json", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            return None, False
        seen, first = b"", None
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if first is None and b'"content":"w' in data:
                first = time.perf_counter() - start
            seen = (seen + data)[-64:]
            if b"[DONE]" in seen:
                break
        return first, b"[DONE]" in seen
    finally:
        writer.close()


async def _run(host, port, path, headers, n, model) -> StreamRun:
    body = json.dumps({"model": model, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    start = time.perf_counter()
    results = await asyncio.gather(
        *[_one(host, port, path, headers, body, start) for _ in range(n)],
        return_exceptions=True)
    wall = time.perf_counter() - start
    ttft = [r[0] for r in results if isinstance(r, tuple) and r[0] is not None and r[1]]
    ok = len(ttft)
    return StreamRun(n=n, ok=ok, errors=n - ok, ttft=ttft, wall=wall)


def run_streams(host: str, port: int, path: str, headers: dict, n: int, model: str) -> StreamRun:
    return asyncio.run(_run(host, port, path, headers, n, model))


def median_run(runs: list[StreamRun]) -> StreamRun:
    """The run whose TTFT p50 is the median of the runs' (the lower middle one of an even
    count); runs that streamed nothing count as slowest."""
    def key(run: StreamRun) -> float:
        return run.ttft_p50_ms if run.ttft else float("inf")
    return sorted(runs, key=key)[(len(runs) - 1) // 2]
