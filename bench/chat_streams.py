"""The browser chat's streaming path under load: N conversations, then N concurrent sends
through the REST API with ``"stream": true`` (the same writer, lease and saved text as the chat
page), timed from the send to the reply's first ``delta`` event and read to its ``done``."""

from __future__ import annotations

import asyncio
import json
import time

from bench.streams import StreamRun, _one

MARKERS = (b"event: delta", b"event: done")
CREATING = 50  # conversations made at once before the timed sends


async def _create(host: str, port: int, headers: dict, model: str) -> str:
    body = json.dumps({"model": model}).encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = ["POST /api/v1/conversations HTTP/1.1", f"Host: {host}:{port}",
                "Connection: close", "Content-Type: application/json",
                f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    status, _, rest = answer.partition(b"\r\n")
    if b" 201 " not in status:
        raise RuntimeError(f"creating a conversation answered {status!r}")
    return json.loads(rest.partition(b"\r\n\r\n")[2])["data"]["id"]


async def _run(host: str, port: int, headers: dict, n: int, model: str) -> StreamRun:
    gate = asyncio.Semaphore(CREATING)

    async def create() -> str:
        async with gate:
            return await _create(host, port, headers, model)

    ids = await asyncio.gather(*[create() for _ in range(n)])
    body = json.dumps({"content": "hi", "stream": True}).encode()
    start = time.perf_counter()
    results = await asyncio.gather(
        *[_one(host, port, f"/api/v1/conversations/{cid}/messages", headers, body, start,
               MARKERS) for cid in ids], return_exceptions=True)
    wall = time.perf_counter() - start
    ttft = [r[0] for r in results if isinstance(r, tuple) and r[0] is not None and r[1]]
    return StreamRun(n=n, ok=len(ttft), errors=n - len(ttft), ttft=ttft, wall=wall)


def run(host: str, port: int, headers: dict, n: int, model: str) -> StreamRun:
    return asyncio.run(_run(host, port, headers, n, model))
