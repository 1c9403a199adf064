"""compose.yaml as docker compose reads it (not marked ``deploy``: no container runs).

Debian's podman-compose 1.0.3, which test_compose.py runs it with, starts services in order
without waiting on their health, so the health-gated start order is pinned here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent.parent
REPLICAS = ("parlor-1", "parlor-2")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_stack_has_postgres_redis_a_migrate_step_and_two_parlor_replicas(compose):
    assert set(compose["services"]) == {"postgres", "redis", "migrate", *REPLICAS}
    ports = {compose["services"][name]["ports"][0].split(":")[0] for name in REPLICAS}
    assert len(ports) == 2, "each replica needs a host port of its own"


def test_services_start_only_once_what_they_need_is_healthy_or_done(compose):
    services = compose["services"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}
    for name in REPLICAS:
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["migrate"]["command"] == ["migrate"]


def test_data_lives_in_named_volumes(compose):
    services = compose["services"]
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert set(compose["volumes"]) == {"postgres-data", "redis-data"}


def test_no_secret_has_a_default_value(compose):
    """Secrets come from the environment or .env; a missing one stops compose with a message."""
    text = (ROOT / "compose.yaml").read_text()
    for name in ("SECRET_KEY", "PARLOR_ENCRYPTION_KEYS", "POSTGRES_PASSWORD"):
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses and all(use.startswith(":?") for use in uses), (name, uses)


def test_images_are_official_by_default_and_overridable(compose):
    services = compose["services"]
    assert services["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:16-bookworm}"
    assert services["redis"]["image"] == "${REDIS_IMAGE:-redis:7-bookworm}"
    for name in ("migrate", *REPLICAS):
        assert services[name]["image"] == "${PARLOR_IMAGE:-parlor:latest}"
        assert services[name]["build"]["args"]["BASE_IMAGE"].startswith(
            "${PARLOR_BASE_IMAGE:-python:3.11-slim")
