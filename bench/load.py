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


@dataclass(frozen=True)
class Target:
    """Where a chat completion is sent: a port, the bearer key and the model name it expects."""
    port: int
    key: str
    model: str
    path: str = "/v1/chat/completions"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}

    @property
    def body(self) -> str:
        return json.dumps({"model": self.model, "messages": [{"role": "user", "content": "hi"}]})


def direct_target(upstream_port: int) -> Target:
    return Target(upstream_port, "x", "bench-model")


WARM_UP = 200  # requests before the measured rounds


def overheads(direct: Target, gateways: dict[str, Target], rounds: int = 7,
              per_round: int = 60) -> dict[str, Overhead]:
    """Each gateway minus direct latency at concurrency 1, in interleaved rounds (direct, then
    each gateway): median of the round medians, and p99 of all gateway minus p99 of all direct."""
    def timed(target: Target, n: int) -> list[float]:
        return _timed_requests(target.port, target.path, target.headers, target.body, n)

    for target in gateways.values():
        timed(target, WARM_UP)  # first requests open pooled connections, load lazy imports
    timed(direct, WARM_UP)
    medians: dict[str, list[float]] = {name: [] for name in gateways}
    samples: dict[str, list[float]] = {name: [] for name in gateways}
    direct_all: list[float] = []
    for _ in range(rounds):
        direct_times = timed(direct, per_round)
        direct_all += direct_times
        for name, target in gateways.items():
            times = timed(target, per_round)
            medians[name].append(statistics.median(times) - statistics.median(direct_times))
            samples[name] += times
    direct_all.sort()
    direct_p99 = direct_all[int(0.99 * len(direct_all))]
    result = {}
    for name, times in samples.items():
        times.sort()
        result[name] = Overhead(p50_ms=1000 * statistics.median(medians[name]),
                                p99_ms=1000 * (times[int(0.99 * len(times))] - direct_p99),
                                direct_p50_ms=1000 * statistics.median(direct_all),
                                gateway_p50_ms=1000 * statistics.median(times))
    return result


def overhead(upstream_port: int, parlor_port: int, key: str, rounds: int = 7,
             per_round: int = 60) -> Overhead:
    """Parlor minus direct latency at concurrency 1 (see `overheads`)."""
    parlor = Target(parlor_port, key, "openai/bench-model")
    return overheads(direct_target(upstream_port), {"parlor": parlor}, rounds,
                     per_round)["parlor"]


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
