"""`make bench` still runs end to end (a tiny, quick configuration; no figures are judged)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["overhead_p50_ms", "overhead_p99_ms", "rps_c16", "rps_c64", "errors", "streams_1000_ok",
        "ttft_1000_p50_ms", "responses_streams_ok", "responses_ttft_p50_ms", "chat_streams_ok",
        "chat_ttft_p50_ms", "chat_rss_mb", "rss_mb",
        "page_conv_1000_ms", "page_usage_ms", "image_send_mb", "balanced_overhead_p50_ms",
        "balanced_rps_c16", "contention_shed", "contention_failed"]


def test_bench_quick_run_prints_table_and_key_value_line():
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: `make test` installs it (make wrk)")
    result = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "| measure | value |"
    pairs = dict(item.split("=", 1) for item in lines[-1].split())
    assert list(pairs) == KEYS
    assert float(pairs["rps_c16"]) > 0
    assert float(pairs["balanced_rps_c16"]) > 0  # one name over two deployments
    assert pairs["responses_streams_ok"] == "5"  # the quick run's 5 /v1/responses streams
    assert pairs["chat_streams_ok"] == "5"  # and 5 chat replies streamed and stored
    assert pairs["contention_failed"] == "0"  # beside the CPU hogs: shed or served, never dropped


def test_bench_reports_the_median_of_repeated_stream_runs():
    from bench.streams import StreamRun, median_run

    def run(ttft: list[float]) -> StreamRun:
        return StreamRun(n=2, ok=len(ttft), errors=2 - len(ttft), ttft=ttft, wall=1.0)

    slow, middle, fast, failed = run([3.0, 3.0]), run([2.0, 2.0]), run([1.0, 1.0]), run([])
    assert median_run([slow, fast, middle]) is middle
    assert median_run([fast, failed, middle]) is middle  # nothing streamed: slowest
    assert median_run([fast]) is fast
