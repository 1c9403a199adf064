"""Open N concurrent streams and time them (asyncio, raw HTTP/1.1): Chat Completions by
default, or the Responses API (``responses=True``: its first text delta, then
``response.completed``)."""

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


CHAT_MARKERS = (b'"content":"w', b"[DONE]")
RESPONSES_MARKERS = (b'"delta":"w', b"response.completed")


async def _one(host: str, port: int, path: str, headers: dict, body: bytes, start: float,
               markers: tuple[bytes, bytes] = CHAT_MARKERS):
    first_marker, end_marker = markers
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
        seen, first, ended = b"", None, False
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if first is None and first_marker in data:
                first = time.perf_counter() - start
            window = seen + data  # a marker cut between two reads is still found
            if end_marker in window:
                ended = True
                break
            seen = window[-64:]
        return first, ended
    finally:
        writer.close()


async def _run(host, port, path, headers, n, model, responses=False) -> StreamRun:
    if responses:
        body = json.dumps({"model": model, "stream": True, "input": "hi",
                           "store": False}).encode()
    else:
        body = json.dumps({"model": model, "stream": True,
                           "messages": [{"role": "user", "content": "hi"}]}).encode()
    markers = RESPONSES_MARKERS if responses else CHAT_MARKERS
    start = time.perf_counter()
    results = await asyncio.gather(
        *[_one(host, port, path, headers, body, start, markers) for _ in range(n)],
        return_exceptions=True)
    wall = time.perf_counter() - start
    ttft = [r[0] for r in results if isinstance(r, tuple) and r[0] is not None and r[1]]
    ok = len(ttft)
    return StreamRun(n=n, ok=ok, errors=n - ok, ttft=ttft, wall=wall)


def run_streams(host: str, port: int, path: str, headers: dict, n: int, model: str,
                responses: bool = False) -> StreamRun:
    return asyncio.run(_run(host, port, path, headers, n, model, responses))


def median_run(runs: list[StreamRun]) -> StreamRun:
    """The run whose TTFT p50 is the median of the runs' (the lower middle one of an even
    count); runs that streamed nothing count as slowest."""
    def key(run: StreamRun) -> float:
        return run.ttft_p50_ms if run.ttft else float("inf")
    return sorted(runs, key=key)[(len(runs) - 1) // 2]
