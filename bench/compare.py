"""Parlor side by side with LiteLLM, in one run, against the same fake upstream.

    python -m bench.compare [--workers N] [--streams 100,1000] [--seconds 8] [--quick]

Measures (a) the fake upstream directly, (b) Parlor under gunicorn.conf.py and (c) the LiteLLM
proxy (bench/litellm.py), both with the same number of worker processes: added latency at c=1
(interleaved rounds), wrk throughput at c=16 and c=64, N concurrent streams. Prints a Markdown
table (direct, Parlor, LiteLLM, Parlor / LiteLLM) and, last, one line of `key=value` pairs.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import litellm, load, servers, streams
from config import serve_workers

PEERS = ("parlor", "litellm")
KEYS = ["workers", "parlor_overhead_p50_ms", "litellm_overhead_p50_ms", "parlor_overhead_p99_ms",
        "litellm_overhead_p99_ms", "parlor_rps_c16", "litellm_rps_c16", "ratio_rps_c16",
        "parlor_rps_c64", "litellm_rps_c64", "ratio_rps_c64", "parlor_errors", "litellm_errors",
        "parlor_streams_1000_ok", "litellm_streams_1000_ok", "parlor_ttft_1000_p50_ms",
        "litellm_ttft_1000_p50_ms", "ratio_ttft_1000_p50"]


@dataclass
class Row:
    """One measure: a value per column (None where it does not apply) and its decimals."""
    label: str
    direct: float | None
    parlor: float | None
    litellm: float | None
    digits: int = 1

    @property
    def ratio(self) -> float | None:
        if "(errors" in self.label or _missing(self.parlor) or not self.litellm \
                or _missing(self.litellm):
            return None
        return self.parlor / self.litellm

    def cells(self) -> list[str]:
        values = [_fmt(v, self.digits) for v in (self.direct, self.parlor, self.litellm)]
        return [self.label, *values, _fmt(self.ratio, 2)]


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if _missing(value) else f"{value:.{digits}f}"


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compare")
    parser.add_argument("--workers", type=int, default=serve_workers(),
                        help="worker processes for Parlor and for LiteLLM alike (default: as "
                             "make serve, one per core)")
    parser.add_argument("--streams", default="100,1000")
    parser.add_argument("--stream-runs", type=int, default=3,
                        help="bursts of 1,000 streams per target, alternated; the median run "
                             "of each is reported")
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--chunk-delay", type=float, default=0.1)
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--litellm-venv", type=Path, default=litellm.DEFAULT_VENV)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: few requests, short load, 5 streams")
    args = parser.parse_args()
    if args.quick:
        args.streams, args.seconds, args.chunk_delay = "5", 1, 0.01
    return args


def _overhead_rows(direct: load.Target, peers: dict, quick: bool, final: dict) -> list[Row]:
    over = load.overheads(direct, peers, **({"rounds": 2, "per_round": 10} if quick else {}))
    for name in PEERS:
        final[f"{name}_overhead_p50_ms"] = f"{over[name].p50_ms:.2f}"
        final[f"{name}_overhead_p99_ms"] = f"{over[name].p99_ms:.2f}"
    return [
        Row("latency c=1, p50 (ms)", over["parlor"].direct_p50_ms, over["parlor"].gateway_p50_ms,
            over["litellm"].gateway_p50_ms, 2),
        Row("added latency c=1, p50 (ms)", None, over["parlor"].p50_ms, over["litellm"].p50_ms, 2),
        Row("added latency c=1, p99 (ms)", None, over["parlor"].p99_ms, over["litellm"].p99_ms, 2),
    ]


def _throughput_rows(direct: load.Target, peers: dict, seconds: int, final: dict,
                     errors: dict) -> list[Row]:
    rows = []
    for concurrency in (16, 64):
        runs = {name: load.throughput(t.port, t.key, concurrency, seconds, body=t.body)
                for name, t in {"direct": direct, **peers}.items()}
        for name in PEERS:
            errors[name] += runs[name].errors
            final[f"{name}_rps_c{concurrency}"] = f"{runs[name].rps:.0f}"
        rows += [Row(f"throughput c={concurrency} ({label})",
                     *(getattr(runs[n], attr) for n in ("direct", *PEERS)), digits)
                 for label, attr, digits in (("RPS", "rps", 0), ("p50 ms", "p50_ms", 1),
                                             ("p99 ms", "p99_ms", 1), ("errors", "errors", 0))]
        row = rows[-4]
        final[f"ratio_rps_c{concurrency}"] = _fmt(row.ratio, 2)
    return rows


def _stream_rows(direct: load.Target, peers: dict, counts: list[int], final: dict,
                 errors: dict, repeats: int = 1) -> list[Row]:
    def run(target: load.Target, n: int) -> streams.StreamRun:
        return streams.run_streams("127.0.0.1", target.port, target.path,
                                   {"Authorization": f"Bearer {target.key}"}, n, target.model)

    for target in peers.values():
        run(target, 4)  # warm the streaming path; not measured
    rows = []
    for n in counts:
        targets = {"direct": direct, **peers}
        collected: dict[str, list[streams.StreamRun]] = {name: [] for name in targets}
        rounds = repeats if n >= 1000 else 1
        for _ in range(rounds):  # alternated: a slow spell hits all
            for name, target in targets.items():
                collected[name].append(run(target, n))
        runs = {name: streams.median_run(done) for name, done in collected.items()}
        for name in PEERS:
            errors[name] += sum(r.errors for r in collected[name])
        # ok and errors over every run (as `make bench` counts them); times of the median run
        every = f", all {rounds} runs" if rounds > 1 else ""
        values = {f"ok{every}": [min(r.ok for r in done) for done in collected.values()],
                  f"errors{every}": [sum(r.errors for r in done) for done in collected.values()],
                  "TTFT p50 ms": [r.ttft_p50_ms for r in runs.values()],
                  "TTFT p99 ms": [r.ttft_ms(0.99) for r in runs.values()],
                  "wall s": [r.wall for r in runs.values()]}
        rows += [Row(f"{n} streams ({label})", *vals, 2 if label == "wall s" else 0)
                 for label, vals in values.items()]
        if n == 1000:
            for name in PEERS:
                final[f"{name}_streams_1000_ok"] = str(min(r.ok for r in collected[name]))
                final[f"{name}_ttft_1000_p50_ms"] = _fmt(runs[name].ttft_p50_ms, 0)
            final["ratio_ttft_1000_p50"] = _fmt(rows[-3].ratio, 2)
    return rows


def main() -> int:
    args = _parse_args()
    _raise_file_limit()
    venv = litellm.install(args.litellm_venv)
    rows: list[Row] = []
    final: dict[str, str] = {"workers": str(args.workers)}
    errors = dict.fromkeys(PEERS, 0)
    with tempfile.TemporaryDirectory(prefix="parlor-bench-compare-") as tmp:
        workdir = Path(tmp)
        upstream, upstream_port = servers.start_upstream(args.chunks, args.chunk_delay)
        processes = [upstream]
        try:
            env = servers.parlor_env(workdir, upstream_port, None)
            key = servers.prepare_parlor(env)
            parlor, parlor_port = servers.start_parlor(env, args.workers)
            processes.append(parlor)
            proxy, proxy_port, proxy_key = litellm.start(venv, workdir, upstream_port,
                                                         args.workers)
            processes.append(proxy)
            direct = load.direct_target(upstream_port)
            peers = {"parlor": load.Target(parlor_port, key, "openai/bench-model"),
                     "litellm": load.Target(proxy_port, proxy_key, f"openai/{litellm.MODEL}")}
            rows += _overhead_rows(direct, peers, args.quick, final)
            rows += _throughput_rows(direct, peers, args.seconds, final, errors)
            rows += _stream_rows(direct, peers, [int(x) for x in args.streams.split(",") if x],
                                 final, errors, args.stream_runs)
            rows.append(Row("RSS per worker after streams, max (MB)", None,
                            max(servers.worker_rss_mb(parlor.pid) or [math.nan]),
                            max(servers.worker_rss_mb(proxy.pid) or [math.nan]), 0))
        finally:
            for process in reversed(processes):
                servers.stop(process)
    final.update({f"{name}_errors": str(count) for name, count in errors.items()})

    print(f"| measure ({args.workers} worker{'s' if args.workers > 1 else ''} each) | direct "
          "| Parlor | LiteLLM | Parlor / LiteLLM |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    print(" ".join(f"{k}={final.get(k, 'n/a')}" for k in KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
