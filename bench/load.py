"""Non-streamed load: sequential overhead (interleaved rounds) and wrk throughput."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass

BODY = json.dumps({"model": "openai/bench-model",
                   "messages": [{"role": "user", "content": "hi"}]})
DIRECT_BODY = json.dumps({"model": "bench-model",
                          "messages": [{"role": "user", "content": "hi"}]})


def _timed_requests(port: int, path: str, headers: dict, body: str, n: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        times.append(time.perf_counter() - start)
    connection.close()
    return times


@dataclass
class Overhead:
    p50_ms: float
    p99_ms: float
    direct_p50_ms: float
    gateway_p50_ms: float


def overhead(upstream_port: int, parlor_port: int, key: str, rounds: int = 7,
             per_round: int = 60) -> Overhead:
    """Gateway minus direct latency at concurrency 1: median of round medians, p99 of all."""
    gateway_headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    direct_headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}
    _timed_requests(parlor_port, "/v1/chat/completions", gateway_headers, BODY, 30)  # warm up
    _timed_requests(upstream_port, "/v1/chat/completions", direct_headers, DIRECT_BODY, 30)
    medians, gateway_all, direct_all = [], [], []
    for _ in range(rounds):
        direct = _timed_requests(upstream_port, "/v1/chat/completions", direct_headers,
                                 DIRECT_BODY, per_round)
        gateway = _timed_requests(parlor_port, "/v1/chat/completions", gateway_headers, BODY,
                                  per_round)
        medians.append(statistics.median(gateway) - statistics.median(direct))
        gateway_all += gateway
        direct_all += direct
    gateway_all.sort()
    direct_all.sort()
    p99 = gateway_all[int(0.99 * len(gateway_all))] - direct_all[int(0.99 * len(direct_all))]
    return Overhead(p50_ms=1000 * statistics.median(medians), p99_ms=1000 * p99,
                    direct_p50_ms=1000 * statistics.median(direct_all),
                    gateway_p50_ms=1000 * statistics.median(gateway_all))


@dataclass
class Throughput:
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


LUA = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def throughput(port: int, key: str, concurrency: int, seconds: int = 8,
               body: str = BODY, path: str = "/v1/chat/completions") -> Throughput:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % (body, key))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", script.name,
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return Throughput(concurrency, rps, _ms(*p50.groups()), _ms(*p99.groups()), errors)
