"""A strict HTTP/1.1 front for the fake vendor: aiohttp's own request parser, then a relay.

Real OpenAI-compatible servers built on aiohttp answer 400 to a request that repeats a
singleton header (``User-Agent``, ``Content-Type``, ``Host``...). Putting this proxy between
Parlor and the fake vendor makes the tests as strict as those servers: whatever aiohttp's
parser refuses never reaches the fake. Request and response bodies, streams included, are
relayed chunk by chunk as they arrive.
"""

from __future__ import annotations

import asyncio
import socket
import threading

from aiohttp import ClientSession, ClientTimeout, web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host",
              "content-encoding"}
# A request's length is kept, so its body streams through without being re-chunked.
REQUEST_HOP_BY_HOP = HOP_BY_HOP - {"content-length"}


class StrictProxy:
    """Serves on a free loopback port and forwards every request to ``upstream`` (a URL)."""

    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._runner: web.AppRunner | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StrictProxy:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the strict proxy did not start")
        return self

    def stop(self) -> None:
        async def shutdown():
            await self._session.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._started.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._session = ClientSession(timeout=ClientTimeout(total=120), auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._relay)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        headers = [(k, v) for k, v in request.headers.items()
                   if k.lower() not in REQUEST_HOP_BY_HOP]
        body = request.content if request.body_exists else None
        async with self._session.request(
                request.method, self.upstream + request.rel_url.path_qs, headers=headers,
                data=body, skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding",
                                              "Content-Type")) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for name, value in upstream.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    response.headers.add(name, value)
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
