"""Load balancing on the hot path: one public name over two deployments of the fast upstream
(two stored vendors, weight 1 each, the default weighted strategy), measured like the plain
route: added latency at concurrency 1 and throughput at c=16."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass

from bench import load, servers

MODEL = "bench-balanced"


@dataclass(frozen=True)
class Balanced:
    overhead: load.Overhead
    throughput: load.Throughput


def admin_key(env: dict) -> str:
    """An admin's API key (the admin API makes the vendors and routes)."""
    try:
        servers.flask(env, "users", "create", "bench-admin@example.com", "--role", "admin",
                      "--password-stdin", stdin="bench-admin-password\n")
    except Exception:  # noqa: BLE001 - already there from an earlier run on the same database
        pass
    return servers.flask(env, "keys", "create", "bench-admin@example.com",
                         "--name", "bench-admin").split()[-1]


def _post(port: int, key: str, path: str, body: dict) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/admin{path}", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


def set_up(port: int, key: str, upstream_port: int) -> None:
    """Two stored vendors on the upstream and a route to each under MODEL."""
    for name in ("fast-a", "fast-b"):
        _post(port, key, "/vendors", {"name": name, "kind": "openai-compatible",
                                      "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                                      "api_key": servers.BENCH_VENDOR_KEY})
        _post(port, key, "/models", {"public_name": MODEL, "vendor": name,
                                     "upstream_model": "bench-model", "weight": 1})


def measure(upstream_port: int, port: int, key: str, seconds: int,
            quick: bool = False) -> Balanced:
    target = load.Target(port, key, MODEL)
    over = load.overheads(load.direct_target(upstream_port), {"balanced": target},
                          **({"rounds": 2, "per_round": 10} if quick else {}))["balanced"]
    run = load.throughput(port, key, 16, seconds, body=target.body)
    return Balanced(over, run)


def rows(result: Balanced) -> list[tuple[str, str]]:
    return [("balanced name (2 deployments): overhead c=1 added p50 / p99 (ms)",
             f"{result.overhead.p50_ms:.2f} / {result.overhead.p99_ms:.2f}"),
            ("balanced name (2 deployments): throughput c=16 RPS, errors",
             f"{result.throughput.rps:.0f}, {result.throughput.errors}")]
