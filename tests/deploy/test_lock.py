"""requirements.lock (what the image installs) against pyproject.toml (the source of truth).

Not marked ``deploy``: it runs in every ``make test``, so a bound changed in pyproject.toml
that rules out a pinned version fails here rather than in the image build. A dependency added
to pyproject.toml and not yet locked still builds (the Dockerfile resolves it, held to the
lock's other pins); ``tests/deploy/update_lock.sh`` pins it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent.parent
LOCK = ROOT / "requirements.lock"


def locked() -> dict[str, list[Requirement]]:
    """The lock's pins by package name (a package may have one pin per marker)."""
    pins: dict[str, list[Requirement]] = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            requirement = Requirement(line)
            pins.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def test_every_lock_line_pins_one_exact_version():
    for pins in locked().values():
        for pin in pins:
            specifiers = list(pin.specifier)
            assert len(specifiers) == 1 and specifiers[0].operator == "==", str(pin)


def test_locked_versions_satisfy_pyproject_on_each_supported_python():
    pins = locked()
    assert {"flask", "gunicorn", "gevent", "sqlalchemy", "psycopg"} <= set(pins)
    for python in ("3.11.2", "3.11.9", "3.12.8", "3.13.1"):
        environment = {**default_environment(), "python_full_version": python,
                       "python_version": python.rsplit(".", 1)[0]}
        for requirement in declared():
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            chosen = [pin for pin in pins.get(canonicalize_name(requirement.name), [])
                      if not pin.marker or pin.marker.evaluate(environment)]
            for pin in chosen:
                version = next(iter(pin.specifier)).version
                assert requirement.specifier.contains(version, prereleases=True), (
                    f"requirements.lock pins {requirement.name}=={version}, outside "
                    f"pyproject's {requirement.specifier}: run tests/deploy/update_lock.sh")
