"""Fixtures of the deploy tests (marker ``deploy``, ``make test-deploy``): podman, the local
base images and Parlor's image, built once a session."""

from __future__ import annotations

import os
import shutil

import pytest
from cryptography.fernet import Fernet

from tests.deploy.podman import build_app_image, build_base_images, remove_leftovers


@pytest.fixture(scope="session")
def base_images() -> dict[str, str]:
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None:
            message = f"{tool} is not installed (make test-deploy installs it)"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    remove_leftovers()
    return build_base_images()


@pytest.fixture(scope="session")
def app_image(base_images) -> str:
    return build_app_image(base_images["python"])


@pytest.fixture(scope="session")
def production_secrets() -> dict[str, str]:
    """What production refuses to start without, made up for the session."""
    return {"SECRET_KEY": Fernet.generate_key().decode(),
            "PARLOR_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
