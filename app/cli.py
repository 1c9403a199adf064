"""Command line (``flask --app run ...``): users, keys, vendors and first-run set-up."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.extensions import db
from app.repositories import accounts as accounts_repo
from app.repositories import usage as usage_repo
from app.services import access_cache, accounts, backups, keys, price_catalog, vendor_credentials
from app.services.vendors import vendor_manager
from app.vendors import VendorError

users_cli = AppGroup("users", help="Manage users.")
keys_cli = AppGroup("keys", help="Manage API keys.")
vendors_cli = AppGroup("vendors", help="Inspect vendors and re-encrypt their keys.")
usage_cli = AppGroup("usage", help="Maintain the usage ledger.")
prices_cli = AppGroup("prices", help="The price catalog (genai-prices) and model routes.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", default="member", show_default=True, help="admin, member or a custom role")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--display-name", default="", help="Name shown in the app.")
def create_user(email: str, role: str, password_stdin: bool, display_name: str) -> None:
    """Create a user."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(email, password, role=role, display_name=display_name)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.role.name} {user.email}")


@keys_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="A label for the key.")
@click.option("--expires-days", type=click.IntRange(min=1), default=None,
              help="Days until the key expires (default: never).")
def create_key(email: str, name: str, expires_days: int | None) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    user = accounts_repo.user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail {email}.")
    key, secret = keys.create_key(user, name=name, expires_days=expires_days)
    click.echo(f"Created key {key.prefix} for {user.email}; it will not be shown again:",
               err=True)
    click.echo(secret)


@keys_cli.command("revoke")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke the key with this prefix (such as pk-1a2b3c4d)."""
    key = keys.revoke_key(prefix)
    if key is None:
        raise click.ClickException(f"No key with the prefix {prefix}.")
    click.echo(f"Revoked {key.prefix}")


@vendors_cli.command("check")
def check_vendors() -> None:
    """Ask every configured vendor for its model list and report."""
    manager = vendor_manager()
    failures = 0
    for name, credential in sorted(manager.catalog.credentials.items()):
        try:
            models = manager.pool.get(credential).models()
        except VendorError as exc:
            failures += 1
            click.echo(f"{name} ({credential.kind}): FAILED - {exc.message}")
        else:
            shown = ", ".join(models[:8]) + (" …" if len(models) > 8 else "")
            click.echo(f"{name} ({credential.kind}): ok, {len(models)} models: {shown}")
    if not manager.catalog.credentials:
        click.echo("No vendor is configured.")
    if failures:
        sys.exit(1)


@vendors_cli.command("reencrypt")
def reencrypt_vendor_keys() -> None:
    """Re-encrypt every stored vendor key with the newest PARLOR_ENCRYPTION_KEYS key."""
    count = vendor_credentials.reencrypt_all()
    click.echo(f"Re-encrypted {count} vendor key{'' if count == 1 else 's'} with the newest key.")


@click.command("bootstrap")
@with_appcontext
def bootstrap() -> None:
    """Create the built-in roles, the environment vendors' stand-ins (route targets) and,
    when no user exists, the first admin."""
    config = current_app.config
    admin, generated = accounts.ensure_first_admin(
        config["PARLOR_ADMIN_EMAIL"], config["PARLOR_ADMIN_PASSWORD"]
    )
    for name in vendor_credentials.ensure_environment_credentials():
        click.echo(f"Model routes may now point at the environment vendor {name}")
    if admin is None:
        return
    click.echo(f"Created the first admin: {admin.email}")
    if generated:
        click.echo(f"Its password (shown once, change it after logging in): {generated}")


@usage_cli.command("rebuild-daily")
def rebuild_daily_usage() -> None:
    """Recompute the daily usage rollup (after loading ledger rows outside Parlor)."""
    usage_repo.rebuild_daily()
    click.echo("Rebuilt the daily usage rollup.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def backup(path: Path, force: bool) -> None:
    """Write a consistent copy of the database to PATH (SQLite file or pg_dump archive)."""
    try:
        done = backups.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path, force=force)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up {done.database} to {done.path} ({done.size_text})")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore(path: Path, yes: bool) -> None:
    """Replace everything in the database with the backup at PATH (best with the app stopped)."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        backups.check(url, path)
        if not yes:
            click.confirm(f"Replace everything in {backups.describe(url)} with {path}?",
                          abort=True)
        # This process's pooled connections would hold the tables the restore replaces.
        db.session.remove()
        db.engine.dispose()
        done = backups.restore(url, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    # Keys, users and roles may all differ now: every process reads them afresh.
    access_cache.cache().changed()
    revision = f", schema {done.revision}" if done.revision else ""
    click.echo(f"Restored {done.database} from {done.path} ({done.size_text}{revision})")


@prices_cli.command("check")
@with_appcontext
def prices_check():
    """List enabled routes with no known price (neither an admin's nor the catalog's)."""
    unknown = price_catalog.unknown_routes()
    click.echo(f"Price catalog: genai-prices {price_catalog.version()}")
    for route in unknown:
        click.echo(f"no price: {route.public_name} ({route.vendor}/{route.upstream_model})")
    click.echo(f"{len(unknown)} route(s) without a known price (they cost $0)."
               if unknown else "Every enabled route has a price.")


def init_app(app: Flask) -> None:
    for command in (users_cli, keys_cli, vendors_cli, usage_cli, prices_cli, bootstrap, backup,
                    restore):
        app.cli.add_command(command)
