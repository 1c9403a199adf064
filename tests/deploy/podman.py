"""podman for the deploy tests: images built here, containers on the host's network.

Every call uses tests/deploy/containers.conf (runc, no rlimits, host networking: what podman
needs on these machines). Nothing here needs a registry: the base images come from
build_base_images.sh, made from Debian's packages.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONTAINERS_CONF = HERE / "containers.conf"
APP_IMAGE = "localhost/parlor:deploy-test"


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, timeout: float = 120, check: bool = True,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``podman ARGS``; on failure the assertion shows what it printed."""
    done = subprocess.run(["podman", *args], env=env or podman_env(), capture_output=True,
                          text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, (f"podman {' '.join(args[:4])} … exit {done.returncode}\n"
                                      f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def remove_leftovers() -> None:
    """Containers and volumes an interrupted earlier run of these tests left behind."""
    listing = podman("ps", "--all", "--format", "{{.Names}}", check=False).stdout.split()
    stale = [name for name in listing if name.startswith(("parlor-deploy-", "parlordeploy"))]
    if stale:
        podman("rm", "--force", "--time", "5", *stale, check=False)
    volumes = podman("volume", "ls", "--quiet", check=False).stdout.split()
    stale = [name for name in volumes if name.startswith("parlordeploy")]
    if stale:
        podman("volume", "rm", "--force", *stale, check=False)


def build_base_images() -> dict[str, str]:
    """The local python, postgres and redis images (built once, then found in podman's store)."""
    done = subprocess.run(["bash", str(HERE / "build_base_images.sh")], env=podman_env(),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"build_base_images.sh failed:\n{done.stderr[-4000:]}"
    names = done.stdout.split()
    return dict(zip(("python", "postgres", "redis"), names, strict=True))


def build_app_image(base_image: str) -> str:
    """Parlor's image from the Dockerfile at the root, on BASE_IMAGE (layers cached)."""
    previous = podman("image", "inspect", "--format", "{{.Id}}", APP_IMAGE, check=False)
    # docker format: the OCI image format has no HEALTHCHECK.
    podman("build", "--format", "docker", "--network", "host", "--build-arg",
           f"BASE_IMAGE={base_image}", "-t", APP_IMAGE, str(ROOT), timeout=900)
    current = podman("image", "inspect", "--format", "{{.Id}}", APP_IMAGE).stdout.strip()
    if previous.returncode == 0 and previous.stdout.strip() != current:
        podman("rmi", previous.stdout.strip(), check=False)  # the last run's image, now untagged
    return APP_IMAGE


def run_once(image: str, env: dict[str, str], *command: str,
             timeout: float = 180) -> subprocess.CompletedProcess:
    """``podman run --rm`` IMAGE COMMAND to its end, with ENV; returns what it printed."""
    flags = [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]
    return podman("run", "--rm", "--network", "host", *flags, image, *command,
                  timeout=timeout, check=False)


@dataclass
class Container:
    """A detached container on the host's network."""

    name: str

    @classmethod
    def start(cls, name: str, image: str, env: dict[str, str], *command: str) -> Container:
        podman("rm", "--force", name, check=False)
        flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        podman("run", "--detach", "--name", name, "--network", "host", *flags, image, *command)
        return cls(name)

    def logs(self) -> str:
        done = podman("logs", self.name, check=False)
        return (done.stdout + done.stderr)[-6000:]

    def running(self) -> bool:
        done = podman("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return done.stdout.strip() == "true"

    def exec(self, *command: str) -> subprocess.CompletedProcess:
        return podman("exec", self.name, *command, check=False)

    def healthcheck(self) -> subprocess.CompletedProcess:
        """The image's HEALTHCHECK, run once now (podman schedules it with systemd, absent here)."""
        return podman("healthcheck", "run", self.name, check=False)

    def process_uids(self) -> set[int]:
        """The real and effective user ids of every process in the container."""
        listing = self.exec("sh", "-c", "grep -h '^Uid:' /proc/[0-9]*/status").stdout
        return {int(uid) for line in listing.splitlines() for uid in line.split()[1:3]}

    def restart(self) -> None:
        podman("restart", "--time", "20", self.name)

    def remove(self) -> None:
        podman("rm", "--force", "--time", "10", self.name, check=False)


def wait_ready(base_url: str, container_logs, timeout: float = 120) -> dict:
    """Wait until /readyz answers 200; returns its JSON (the logs explain a timeout)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = requests.get(base_url + "/readyz", timeout=3)
            if response.status_code == 200:
                return response.json()
            last = f"{response.status_code} {response.text[:200]}"
        except requests.RequestException as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise AssertionError(f"{base_url}/readyz not ready in {timeout} s ({last})\n"
                         f"{container_logs()}")
