"""Run every benchmark and print a Markdown table, then one `key=value` line.

The last Parlor row is the stream burst again with a CPU hog per core beside it: streams shed
(503) and failed (reset, timeout, another status, cut short) are counted apart; failed must be 0.

    python -m bench [--streams 100,1000] [--stream-runs 3] [--workers N] [--skip-pages]
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
from pathlib import Path

from bench import attachments, balanced, chat_streams, contention, load, pages, servers, streams
from config import serve_workers


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def _fmt(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--streams", default="100,1000")
    parser.add_argument("--workers", type=int, default=serve_workers(),
                        help="worker processes (default: as make serve, one per core)")
    parser.add_argument("--stream-runs", type=int, default=3,
                        help="bursts of 1,000 streams, alternated with direct ones; the median "
                             "run is reported (the issue's targets are medians of runs)")
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--chunk-delay", type=float, default=0.1)
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: few requests, short load, no page timings")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL for the page timings (default: SQLite)")
    args = parser.parse_args()
    if args.quick:
        args.streams, args.seconds, args.skip_pages, args.chunk_delay = "5", 1, True, 0.01
    _raise_file_limit()
    rows: list[tuple[str, str]] = []
    final: dict[str, str] = {}

    with tempfile.TemporaryDirectory(prefix="parlor-bench-") as tmp:
        workdir = Path(tmp)
        upstream, upstream_port = servers.start_upstream(args.chunks, args.chunk_delay)
        env = servers.parlor_env(workdir, upstream_port, None)
        key = servers.prepare_parlor(env)
        admin = balanced.admin_key(env)
        parlor, port = servers.start_parlor(env, args.workers)
        try:
            balanced.set_up(port, admin, upstream_port)
            over = load.overhead(upstream_port, port, key,
                                 **({"rounds": 2, "per_round": 10} if args.quick else {}))
            rows += [("overhead c=1, added p50 / p99 (ms)",
                      f"{over.p50_ms:.2f} / {over.p99_ms:.2f}"),
                     ("latency c=1, direct p50 / through Parlor p50 (ms)",
                      f"{over.direct_p50_ms:.2f} / {over.gateway_p50_ms:.2f}")]
            final.update(overhead_p50_ms=f"{over.p50_ms:.2f}", overhead_p99_ms=f"{over.p99_ms:.2f}")

            errors = 0
            spread = balanced.measure(upstream_port, port, key, args.seconds, args.quick)
            rows += balanced.rows(spread)
            errors += spread.throughput.errors
            final.update(balanced_overhead_p50_ms=f"{spread.overhead.p50_ms:.2f}",
                         balanced_rps_c16=f"{spread.throughput.rps:.0f}")
            for concurrency in (16, 64):
                run = load.throughput(port, key, concurrency, args.seconds)
                errors += run.errors
                rows.append((f"throughput c={concurrency}: RPS, p50 / p99 (ms), errors",
                             f"{run.rps:.0f}, {run.p50_ms:.1f} / {run.p99_ms:.1f}, {run.errors}"))
                final[f"rps_c{concurrency}"] = f"{run.rps:.0f}"

            rss_before = servers.worker_rss_mb(parlor.pid)
            headers = {"Authorization": f"Bearer {key}"}
            for n in [int(x) for x in args.streams.split(",") if x]:
                repeats = args.stream_runs if n >= 1000 else 1
                directs, vias = [], []
                for _ in range(repeats):  # alternated, so a slow spell hits both alike
                    directs.append(streams.run_streams(
                        "127.0.0.1", upstream_port, "/v1/chat/completions",
                        {"Authorization": "Bearer x"}, n, "bench-model"))
                    vias.append(streams.run_streams("127.0.0.1", port, "/v1/chat/completions",
                                                    headers, n, "openai/bench-model"))
                direct, via = streams.median_run(directs), streams.median_run(vias)
                errors += sum(r.errors for r in vias)
                runs = f" (median of {repeats} runs)" if repeats > 1 else ""
                rows.append((f"{n} streams: ok, errors, TTFT p50 / p99 (ms), wall (s){runs}",
                             f"{min(r.ok for r in vias)}, {sum(r.errors for r in vias)}, "
                             f"{_fmt(via.ttft_p50_ms)} / {_fmt(via.ttft_ms(0.99))}, "
                             f"{via.wall:.2f}"))
                if repeats > 1:
                    rows.append((f"{n} streams: TTFT p50 of each run (ms)",
                                 ", ".join(_fmt(r.ttft_p50_ms) for r in vias)))
                rows.append((f"{n} streams direct: TTFT p50 / p99 (ms), wall (s){runs}",
                             f"{_fmt(direct.ttft_p50_ms)} / {_fmt(direct.ttft_ms(0.99))}, "
                             f"{direct.wall:.2f}"))
                if n == 1000:
                    final["streams_1000_ok"] = str(min(r.ok for r in vias))
                    final["ttft_1000_p50_ms"] = _fmt(via.ttft_p50_ms)
            n = max([int(x) for x in args.streams.split(",") if x] or [0])
            if n:  # the Responses API (Codex CLI, the Agents SDK), translated to chat upstream
                run = streams.run_streams("127.0.0.1", port, "/v1/responses", headers, n,
                                          "openai/bench-model", responses=True)
                errors += run.errors
                rows.append((f"{n} /v1/responses streams: ok, errors, TTFT p50 / p99 (ms), "
                             "wall (s)", f"{run.ok}, {run.errors}, {_fmt(run.ttft_p50_ms)} / "
                                         f"{_fmt(run.ttft_ms(0.99))}, {run.wall:.2f}"))
                final["responses_streams_ok"] = str(run.ok)
                final["responses_ttft_p50_ms"] = _fmt(run.ttft_p50_ms)
            rss_after = servers.worker_rss_mb(parlor.pid)
            rows.append(("RSS per worker before / after streams (MB)",
                         f"{', '.join(f'{x:.0f}' for x in rss_before)} / "
                         f"{', '.join(f'{x:.0f}' for x in rss_after)}"))
            if n:  # the browser chat's path: stored replies, written as they grow
                chat = chat_streams.run("127.0.0.1", port, headers, n, "openai/bench-model")
                errors += chat.errors
                rows.append((f"{n} chat streams (REST SSE, stored replies): ok, errors, TTFT "
                             "p50 / p99 (ms), wall (s)",
                             f"{chat.ok}, {chat.errors}, {_fmt(chat.ttft_p50_ms)} / "
                             f"{_fmt(chat.ttft_ms(0.99))}, {chat.wall:.2f}"))
                final["chat_streams_ok"] = str(chat.ok)
                final["chat_ttft_p50_ms"] = _fmt(chat.ttft_p50_ms)
                rss_chat = servers.worker_rss_mb(parlor.pid)
                rows.append(("RSS per worker after the chat streams (MB)",
                             ", ".join(f"{x:.0f}" for x in rss_chat)))
                final["chat_rss_mb"] = f"{max(rss_chat or [0]):.0f}"
            final["errors"] = str(errors)
            final["rss_mb"] = f"{max(rss_after or [0]):.0f}"
            image = attachments.measure(port, key, parlor.pid)  # a 10 MB image to the vendor
            rows.append(("sending a 10 MB image: worker RSS before / peak (MB), copies held",
                         f"{image.rss_before_mb:.0f} / {image.rss_peak_mb:.0f}, "
                         f"{image.copies:.1f}"))
            final["image_send_mb"] = f"{image.growth_mb:.0f}"
            if n:  # the burst again, with a CPU hog per core beside it (bench/contention.py)
                busy = contention.run("127.0.0.1", port, headers, n, "openai/bench-model")
                rows.append(contention.row(busy))
                final.update(contention_shed=str(busy.shed), contention_failed=str(busy.failed))
        finally:
            servers.stop(parlor)
            servers.stop(upstream)

        if not args.skip_pages:
            timings = pages.measure(workdir, args.database_url)
            for label, value in timings.items():
                rows.append((f"page: {label} (ms)", _fmt(value)))
            final["page_conv_1000_ms"] = _fmt(timings.get("conversation of 1,000 messages"))
            final["page_usage_ms"] = _fmt(timings.get("/admin/usage over 1,000,000 rows"))

    print("| measure | value |\n| --- | --- |")
    for label, value in rows:
        print(f"| {label} | {value} |")
    keys = ["overhead_p50_ms", "overhead_p99_ms", "rps_c16", "rps_c64", "errors",
            "streams_1000_ok", "ttft_1000_p50_ms", "responses_streams_ok",
            "responses_ttft_p50_ms", "chat_streams_ok", "chat_ttft_p50_ms", "chat_rss_mb",
            "rss_mb",
            "page_conv_1000_ms", "page_usage_ms",
            "image_send_mb", "balanced_overhead_p50_ms", "balanced_rps_c16", "contention_shed",
            "contention_failed"]
    print(" ".join(f"{k}={final.get(k, 'n/a')}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
