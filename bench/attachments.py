"""The memory a Parlor worker uses to send a 10 MB image to the vendor (``make bench``).

    .venv/bin/python -m bench.attachments [--megabytes 10] [--folder] [--database-url URL]

``--folder`` keeps the attachments in a folder (PARLOR_ATTACHMENTS_DIR) instead of the
database; ``--database-url`` uses that (empty) database (PostgreSQL) instead of SQLite.

Uploads an image of random pixels (PNG, which barely compresses them: about the size asked),
then sends it in a message to ``openai/gpt-4o`` (a model that takes images) served by the
bench's fake upstream. Before the baseline, a small image is sent the same way, so the
vendor SDK, adapters and code paths a worker imports on first use are loaded already and do
not count as the send's memory. The peak is the kernel's own high-water mark of the worker's
resident memory (``VmHWM``, reset through ``/proc/<pid>/clear_refs`` just before the send),
so no peak falls between two samples; a thread also samples ``VmRSS`` every few milliseconds
(the only measure where the reset is not allowed). Reports the workers' RSS before the send,
the peak during it, and the growth over the image's size ("copies": how many images' worth
the send held at once; the stored bytes themselves are one). Run alone, it starts its own
upstream and a one-worker Parlor.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench import servers

MODEL = "openai/gpt-4o"  # a known model that takes images; the bench upstream answers any name
MAX_COPIES = 2.0  # issue 17: a worker holds a sent image at most twice (the stored bytes + one)


@dataclass
class ImageSend:
    image_mb: float
    rss_before_mb: float
    rss_peak_mb: float
    seconds: float
    high_water: bool = False  # the peak is the kernel's VmHWM, not only sampled

    @property
    def growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb

    @property
    def copies(self) -> float:
        return self.growth_mb / self.image_mb if self.image_mb else 0.0


def random_png(megabytes: float) -> bytes:
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        out, "PNG", compress_level=1)
    return out.getvalue()


def _call(url: str, key: str, body: bytes, content_type: str, timeout: float = 120) -> dict:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": content_type})
    for attempt in range(10):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:  # a worker shedding load right after a burst
            if exc.code != 503 or attempt == 9:
                raise
            time.sleep(float(exc.headers.get("Retry-After") or 1))
    raise AssertionError("unreachable")


def worker_rss(master_pid: int, field: str = "VmRSS") -> dict[int, float]:
    """Resident memory (MB) of each worker of a gunicorn master (or of the master alone):
    now (``VmRSS``) or its high-water mark (``VmHWM``)."""
    sizes = {}
    for pid in _workers(master_pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    sizes[int(pid)] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return sizes


def _workers(master_pid: int) -> list[str]:
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []
    return children or [str(master_pid)]


def reset_peaks(master_pid: int) -> bool:
    """Reset each worker's ``VmHWM`` to its current RSS (Linux's ``clear_refs`` 5)."""
    try:
        for pid in _workers(master_pid):
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class _Sampler(threading.Thread):
    """Reads each worker's resident memory every ``interval`` seconds; keeps each one's peak."""

    def __init__(self, master_pid: int, interval: float = 0.003):
        super().__init__(daemon=True)
        self.master_pid, self.interval = master_pid, interval
        self.peaks: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for pid, size in worker_rss(self.master_pid).items():
                self.peaks[pid] = max(size, self.peaks.get(pid, 0.0))
            time.sleep(self.interval)


def measure(port: int, key: str, master_pid: int, megabytes: float = 10) -> ImageSend:
    """Upload a ``megabytes`` image, then send it once, sampling the workers' memory."""
    base = f"http://127.0.0.1:{port}/api/v1"
    image = random_png(megabytes)
    body, content_type = _multipart("bench.png", image)
    attachment = _call(f"{base}/attachments", key, body, content_type)["data"]
    del body
    conversation = _call(f"{base}/conversations", key, json.dumps({"model": MODEL}).encode(),
                         "application/json")["data"]["id"]
    message = json.dumps({"content": "What is in this picture?",
                          "attachments": [attachment["id"]]}).encode()
    _warm_up(base, key)
    time.sleep(0.5)  # let the upload's garbage settle before the baseline
    before = worker_rss(master_pid)
    high_water = reset_peaks(master_pid)
    sampler = _Sampler(master_pid)
    sampler.start()
    started = time.perf_counter()
    try:
        reply = _call(f"{base}/conversations/{conversation}/messages", key, message,
                      "application/json")["data"]["reply"]
    finally:
        sampler.done.set()
        sampler.join()
    if reply["status"] != "complete":
        raise RuntimeError(f"the send failed: {reply['status']} {reply.get('error')}")
    seconds = time.perf_counter() - started
    peaks = worker_rss(master_pid, "VmHWM") if high_water else {}
    for pid, size in sampler.peaks.items():
        peaks[pid] = max(size, peaks.get(pid, 0.0))
    # The worker that grew most is the one that sent it.
    sender = max(before, key=lambda pid: peaks.get(pid, 0.0) - before[pid])
    return ImageSend(image_mb=attachment["size"] / 1024 / 1024, rss_before_mb=before[sender],
                     rss_peak_mb=max(peaks.get(sender, 0.0), before[sender]),
                     seconds=seconds, high_water=high_water)


def _warm_up(base: str, key: str) -> None:
    """Send a small image once, so what a worker loads on its first send is loaded (each
    worker: the one that sends the measured image could be any)."""
    body, content_type = _multipart("warm-up.png", random_png(0.05))
    small = _call(f"{base}/attachments", key, body, content_type)["data"]["id"]
    for _ in range(4):
        conversation = _call(f"{base}/conversations", key, json.dumps({"model": MODEL}).encode(),
                             "application/json")["data"]["id"]
        _call(f"{base}/conversations/{conversation}/messages", key,
              json.dumps({"content": "Warm up", "attachments": [small]}).encode(),
              "application/json")


def describe(result: ImageSend) -> str:
    return (f"{result.image_mb:.1f} MB image: worker RSS {result.rss_before_mb:.0f} MB before, "
            f"{result.rss_peak_mb:.0f} MB peak (+{result.growth_mb:.0f} MB, "
            f"{result.copies:.1f} copies), sent in {result.seconds:.2f} s"
            f"{'' if result.high_water else ' (peak sampled: VmHWM could not be reset)'}"
            f"{'' if result.copies <= MAX_COPIES else f'; OVER the limit of {MAX_COPIES:.0f}'}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.attachments")
    parser.add_argument("--megabytes", type=float, default=10)
    parser.add_argument("--folder", action="store_true",
                        help="store attachments in a folder (PARLOR_ATTACHMENTS_DIR)")
    parser.add_argument("--database-url", default=None,
                        help="an empty PostgreSQL database to use (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parlor-bench-image-") as tmp:
        upstream, upstream_port = servers.start_upstream(chunks=1, chunk_delay=0)
        try:
            env = servers.parlor_env(Path(tmp), upstream_port, args.database_url)
            if args.folder:
                env["PARLOR_ATTACHMENTS_DIR"] = str(Path(tmp) / "files")
            key = servers.prepare_parlor(env)
            parlor, port = servers.start_parlor(env, workers=1)
            try:
                result = measure(port, key, parlor.pid, args.megabytes)
                print(describe(result))
            finally:
                servers.stop(parlor)
        finally:
            servers.stop(upstream)
    if result.copies > MAX_COPIES:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
