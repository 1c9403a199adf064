"""The memory a Parlor worker uses to send a 10 MB image to the vendor (``make bench``).

    .venv/bin/python -m bench.attachments [--megabytes 10]

Uploads an image of random pixels (PNG, which barely compresses them: about the size asked),
then sends it in a message to ``openai/gpt-4o`` (a model that takes images) served by the
bench's fake upstream, while a thread samples the resident memory of every worker every few
milliseconds. Reports the workers' RSS before the send, the peak during it, and the growth
over the image's size ("copies": how many images' worth the send held at once). Run alone,
it starts its own upstream and a one-worker Parlor.
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


@dataclass
class ImageSend:
    image_mb: float
    rss_before_mb: float
    rss_peak_mb: float
    seconds: float

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


def worker_rss(master_pid: int) -> dict[int, float]:
    """Resident memory (MB) of each worker of a gunicorn master (or of the master alone)."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return {}
    sizes = {}
    for pid in children or [str(master_pid)]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[int(pid)] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return sizes


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
    time.sleep(0.5)  # let the upload's garbage settle before the baseline
    before = worker_rss(master_pid)
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
    # The worker that grew most is the one that sent it.
    sender = max(before, key=lambda pid: sampler.peaks.get(pid, 0.0) - before[pid])
    return ImageSend(image_mb=attachment["size"] / 1024 / 1024, rss_before_mb=before[sender],
                     rss_peak_mb=max(sampler.peaks.get(sender, 0.0), before[sender]),
                     seconds=time.perf_counter() - started)


def describe(result: ImageSend) -> str:
    return (f"{result.image_mb:.1f} MB image: worker RSS {result.rss_before_mb:.0f} MB before, "
            f"{result.rss_peak_mb:.0f} MB peak (+{result.growth_mb:.0f} MB, "
            f"{result.copies:.1f} copies), sent in {result.seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.attachments")
    parser.add_argument("--megabytes", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parlor-bench-image-") as tmp:
        upstream, upstream_port = servers.start_upstream(chunks=1, chunk_delay=0)
        try:
            env = servers.parlor_env(Path(tmp), upstream_port, None)
            key = servers.prepare_parlor(env)
            parlor, port = servers.start_parlor(env, workers=1)
            try:
                print(describe(measure(port, key, parlor.pid, args.megabytes)))
            finally:
                servers.stop(parlor)
        finally:
            servers.stop(upstream)


if __name__ == "__main__":
    main()
