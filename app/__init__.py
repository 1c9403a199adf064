"""Parlor: a self-hosted multi-vendor AI chat app and OpenAI/Anthropic-compatible gateway."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import admission, cli, extensions, limits, logs, metrics, ops, security, telemetry
from app.admin import BLUEPRINTS as ADMIN_BLUEPRINTS
from app.api import BLUEPRINTS as API_BLUEPRINTS
from app.repositories import usage as usage_ledger
from app.services import access_cache, encryption, usage_writer, vendors
from app.web import BLUEPRINTS as WEB_BLUEPRINTS
from app.web import auth
from app.web import errors as web_errors
from config import Config, load_config

PROJECT_DIR = Path(__file__).resolve().parent.parent


def create_app(config: Config | dict | None = None, *, migrations: bool = True) -> Flask:
    """Build the application: extensions, blueprints, error handlers and CLI.

    ``config`` is a Config instance, a dict of overrides on the environment's config, or None.
    ``migrations=False`` leaves out Flask-Migrate (``flask db``) and the Alembic it imports:
    for server processes (gunicorn.conf.py), which never migrate.
    """
    settings = config if isinstance(config, Config) else load_config()
    if isinstance(config, dict):
        for key, value in config.items():
            setattr(settings, key, value)

    app = Flask(
        __name__,
        instance_path=settings.INSTANCE_PATH,
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "static"),
    )
    app.config.from_mapping(settings.as_dict())
    logs.configure(app.config["LOG_LEVEL"])
    logs.init_app(app)  # these two first: their hooks must see requests others answer early
    metrics.init_app(app)
    telemetry.init_app(app)  # traces, when configured: shed requests too
    admission.init_app(app)  # sheds before anything else works on a request

    extensions.db.init_app(app)
    if migrations:
        _init_migrations(app)
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    auth.init_login(app)
    encryption.init_app(app)
    vendors.init_app(app)
    access_cache.init_app(app)
    usage_ledger.init_app(app)
    usage_writer.init_app(app)
    security.init_app(app)
    limits.init_app(app)

    app.register_blueprint(ops.bp)
    for blueprint in (*WEB_BLUEPRINTS, *ADMIN_BLUEPRINTS, *API_BLUEPRINTS):
        app.register_blueprint(blueprint)
    web_errors.init_app(app)
    cli.init_app(app)
    return app


def _init_migrations(app: Flask) -> None:
    from flask_migrate import Migrate  # imports Alembic

    Migrate(app, extensions.db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True,
            compare_type=True)
