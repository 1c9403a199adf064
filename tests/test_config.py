"""Configuration from the environment (DESIGN.md §3)."""

from __future__ import annotations

import os
import re
import runpy
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, DevelopmentConfig, ProductionConfig, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        ProductionConfig()


def test_production_refuses_to_start_without_encryption_keys(monkeypatch):
    monkeypatch.delenv("PARLOR_ENCRYPTION_KEYS")
    with pytest.raises(ConfigError, match="PARLOR_ENCRYPTION_KEYS"):
        ProductionConfig()


def test_production_turns_mock_vendor_off_and_secures_cookies():
    config = ProductionConfig()
    assert config.PARLOR_MOCK_VENDOR is False
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE


def test_development_generates_secrets_once_and_keeps_them_private(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.delenv("PARLOR_ENCRYPTION_KEYS")
    first, second = DevelopmentConfig(), DevelopmentConfig()
    assert first.SECRET_KEY and first.SECRET_KEY == second.SECRET_KEY
    assert first.PARLOR_ENCRYPTION_KEYS == second.PARLOR_ENCRYPTION_KEYS
    secret_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert DevelopmentConfig().PARLOR_MOCK_VENDOR is True


def test_environment_values_are_read(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/parlor")
    monkeypatch.setenv("PARLOR_MAX_REQUEST_BYTES", "2048")
    monkeypatch.setenv("PARLOR_MOCK_VENDOR", "off")
    monkeypatch.setenv("PARLOR_ENCRYPTION_KEYS", "k1, k2")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    config = DevelopmentConfig()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/parlor"
    assert config.MAX_CONTENT_LENGTH == 2048
    assert config.PARLOR_MOCK_VENDOR is False
    assert config.PARLOR_ENCRYPTION_KEYS == ["k1", "k2"]
    assert config.REDIS_URL == "redis://127.0.0.1:6379/0"


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    assert DevelopmentConfig().SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path}/instance/parlor.db"


def test_unknown_environment_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PARLOR_ENV", "staging")
    with pytest.raises(ConfigError, match="PARLOR_ENV"):
        load_config()


def test_nothing_but_config_py_reads_the_environment():
    pattern = re.compile(r"os\.environ|os\.getenv|getenv\(")
    sources = [*ROOT.joinpath("app").rglob("*.py"), ROOT / "run.py", ROOT / "gunicorn.conf.py"]
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources
        if pattern.search(path.read_text())
    ]
    assert offenders == []


def test_mock_delay_defaults_to_zero_in_tests_but_the_environment_wins(monkeypatch):
    import config

    assert config.TestingConfig().PARLOR_MOCK_DELAY_MS == 0
    monkeypatch.setenv("PARLOR_MOCK_DELAY_MS", "40")
    assert config.TestingConfig().PARLOR_MOCK_DELAY_MS == 40
    assert DevelopmentConfig().PARLOR_MOCK_DELAY_MS == 40


def test_every_environment_variable_is_documented_in_the_readme():
    names = set(re.findall(r'_(?:env|flag)\("([A-Z0-9_]+)"', (ROOT / "config.py").read_text()))
    readme = (ROOT / "README.md").read_text()
    assert sorted(n for n in names if f"`{n}`" not in readme) == []


def test_a_server_database_is_pinged_on_checkout_and_an_sqlite_file_is_not(monkeypatch, tmp_path):
    monkeypatch.setenv("PARLOR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://parlor@db/parlor")
    assert DevelopmentConfig().SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/parlor.db")
    assert DevelopmentConfig().SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is False


def test_gunicorn_serves_the_app_without_alembic():
    """gunicorn.conf.py names the app itself (``make serve`` passes no module), built without
    Flask-Migrate: a worker that never migrates does not carry Alembic."""
    script = (
        "import sys, runpy\n"
        "from gunicorn.util import import_app\n"
        "settings = runpy.run_path('gunicorn.conf.py')\n"
        "app = import_app(settings['wsgi_app'])\n"
        "print(type(app).__name__, 'alembic' in sys.modules, 'flask_migrate' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.split()[-3:] == ["Flask", "False", "False"]


@pytest.mark.parametrize("web_concurrency, expected", [("3", 3), ("", os.cpu_count() or 1)])
def test_make_serve_runs_web_concurrency_workers_else_one_per_core(monkeypatch, web_concurrency,
                                                                   expected):
    monkeypatch.setenv("WEB_CONCURRENCY", web_concurrency)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["workers"] == expected


def test_a_worker_count_that_is_not_a_number_is_refused(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "many")
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))
