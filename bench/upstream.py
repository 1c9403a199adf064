"""A fast fake OpenAI upstream for benchmarks (gevent WSGI): fixed latency and chunk timing.

    python -m bench.upstream --port 9000 --chunks 20 --chunk-delay 0.1
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIHandler, WSGIServer  # noqa: E402

COMPLETION = {
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000,
    "model": "bench-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the bench."},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
}
MODELS = {"object": "list", "data": [{"id": "bench-model", "object": "model",
                                      "created": 1_700_000_000, "owned_by": "bench"}]}


def _chunk(delta: dict, finish=None, usage=None, choices=True) -> bytes:
    body = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "bench-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [],
            "usage": usage}
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


class NoDelayHandler(WSGIHandler):
    """Headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm and
    the client's delayed ACK add ~40 ms to every response."""

    def handle(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()


def make_app(chunks: int, chunk_delay: float, latency: float):
    # Every stream sends the same events: rendered once, so the fake spends its share of the
    # machine's two cores writing them, not building them again for each of 1,000 streams.
    first = _chunk({"role": "assistant", "content": ""})
    words = [_chunk({"content": f"word{i} "}) for i in range(chunks)]
    finish = _chunk({}, finish="stop")
    usage = _chunk({}, usage={"prompt_tokens": 5, "completion_tokens": chunks,
                              "total_tokens": 5 + chunks}, choices=False)

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path.endswith("/models"):
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(MODELS).encode()]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if latency:
            gevent.sleep(latency)
        if not request.get("stream"):
            body = json.dumps(COMPLETION).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        include_usage = (request.get("stream_options") or {}).get("include_usage")
        start_response("200 OK", [("Content-Type", "text/event-stream"),
                                  ("Cache-Control", "no-cache")])

        def events():
            yield first
            for word in words:
                gevent.sleep(chunk_delay)
                yield word
            yield finish
            if include_usage:
                yield usage
            yield b"data: [DONE]\n\n"

        return events()

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--chunk-delay", type=float, default=0.1)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = WSGIServer(("127.0.0.1", args.port), make_app(args.chunks, args.chunk_delay,
                                                            args.latency),
                        log=None, backlog=4096, handler_class=NoDelayHandler)
    print(f"bench upstream on {args.port} at {time.strftime('%X')}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
