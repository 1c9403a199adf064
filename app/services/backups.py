"""Consistent copies of the database and their restore: the SQLite online backup API for SQLite,
``pg_dump`` / ``pg_restore`` for PostgreSQL (``flask backup`` and ``flask restore``)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
MIGRATIONS_TABLE = "alembic_version"
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PG_CLIENT_PACKAGE = "postgresql-client"
CONNECT_TIMEOUT_SECONDS = "10"
# libpq settings a URL's query may carry, passed on in the tools' connection string.
PG_QUERY_SETTINGS = frozenset({
    "sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslpassword", "connect_timeout",
    "application_name", "options", "target_session_attrs", "gssencmode", "channel_binding",
})


class BackupError(Exception):
    """A backup or restore that could not be made; the message is safe to show."""


@dataclass(frozen=True)
class Done:
    """What a backup or restore did: the file, its size, and the database it came from or
    went to."""

    path: Path
    size: int
    database: str
    revision: str = ""

    @property
    def size_text(self) -> str:
        return human_size(self.size)


def human_size(size: int) -> str:
    """``size`` bytes as ``812 B``, ``14.2 KB``, ``3.0 MB`` …"""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    return f"{value:.1f} {unit}"


def describe(database_url: str) -> str:
    """The configured database in words, without its password."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {_sqlite_file(url)}"
    if url.get_backend_name() == "postgresql":
        where = f"{url.host or 'local socket'}" + (f":{url.port}" if url.port else "")
        return f"the PostgreSQL database {url.database} on {where}"
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {url.get_backend_name()}.")


def backup(database_url: str, path: Path, *, force: bool = False) -> Done:
    """Write a consistent copy of the database to ``path`` (refused if it exists, unless
    ``force``); the copy is written beside ``path`` first, so a failure leaves no partial file."""
    url = make_url(database_url)
    label = describe(database_url)
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the backup file's path.")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists; pass --force to overwrite it.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    partial = path.with_name(f".{path.name}.partial-{secrets.token_hex(4)}")
    try:
        # Owner-only from the start: a backup holds password hashes and encrypted vendor keys.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            if url.get_backend_name() == "sqlite":
                _sqlite_backup(_existing_sqlite_file(url), path, partial)
            else:
                _run_pg_tool("pg_dump", url, ["--format=custom", f"--file={partial}"])
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        raise BackupError(f"Could not write {path}: {exc.strerror or exc}.") from None
    return Done(path, path.stat().st_size, label)


def check(database_url: str, path: Path) -> str:
    """Refuse ``path`` unless it is a Parlor backup for the configured kind of database; returns
    the schema revision it holds (SQLite) or ``""`` (PostgreSQL)."""
    url = make_url(database_url)
    describe(database_url)
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    kind = _kind_of(path)
    wanted = url.get_backend_name()
    if kind is not None and kind != wanted:
        raise BackupError(f"{path} is a {KIND_NAMES[kind]} backup, but the configured "
                          f"database is {KIND_NAMES[wanted]}.")
    if wanted == "sqlite":
        return _check_sqlite_backup(path)
    _check_pg_archive(path)
    return ""


def restore(database_url: str, path: Path) -> Done:
    """Replace the configured database's contents with the backup at ``path``, all or nothing
    (one backup-API step on SQLite, one transaction on PostgreSQL)."""
    url = make_url(database_url)
    label = describe(database_url)
    path = Path(path)
    revision = check(database_url, path)
    if url.get_backend_name() == "sqlite":
        target = _sqlite_file(url)
        if target.exists() and target.samefile(path):
            raise BackupError(f"{path} is the configured database itself.")
        try:
            source = _read_only(path)
            destination = sqlite3.connect(target, timeout=30)
        except sqlite3.Error as exc:
            raise BackupError(f"Could not open {target}: {exc}") from None
        try:
            # pages=-1: every page in one step, so the live file changes in one transaction.
            source.backup(destination, pages=-1)
        except sqlite3.Error as exc:
            raise BackupError(f"Could not restore into {target}: {exc}") from None
        finally:
            destination.close()
            source.close()
    else:
        _run_pg_tool("pg_restore", url, ["--clean", "--if-exists", "--no-owner",
                                         "--single-transaction", "--exit-on-error", str(path)])
    return Done(path, path.stat().st_size, label, revision)


# SQLite

def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("The configured SQLite database is not a file; there is nothing "
                          "to back up or restore.")
    return Path(url.database).resolve()


def _existing_sqlite_file(url: URL) -> Path:
    live = _sqlite_file(url)
    if not live.is_file():
        raise BackupError(f"There is no database file at {live}.")
    return live


def _sqlite_backup(live: Path, path: Path, partial: Path) -> None:
    if path.exists() and path.samefile(live):
        raise BackupError(f"{path} is the configured database itself.")
    source = sqlite3.connect(live, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        # One step under one read transaction: a snapshot, however the app writes meanwhile.
        source.backup(copy, pages=-1)
        # The live file is in WAL mode; the copy is one self-contained file.
        copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupError(f"Could not back up {live}: {exc}") from None
    finally:
        copy.close()
        source.close()


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)


def _check_sqlite_backup(path: Path) -> str:
    refusal = f"{path} is not a Parlor SQLite backup"
    try:
        connection = _read_only(path)
        try:
            (verdict,) = connection.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"{refusal}: it is damaged ({verdict}).")
            found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                       "AND name = ?", (MIGRATIONS_TABLE,)).fetchone()
            if found is None:
                raise BackupError(f"{refusal}: it has no {MIGRATIONS_TABLE} table.")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{refusal}: {exc}.") from None
    return row[0] if row else ""


# PostgreSQL

def _kind_of(path: Path) -> str | None:
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    return None


def _check_pg_archive(path: Path) -> None:
    listing = _run_pg_tool("pg_restore", None, ["--list", str(path)],
                           failure=f"{path} is not a Parlor PostgreSQL backup (pg_dump "
                                   "--format=custom archive)")
    if not re.search(rf"^\d+; \d+ \d+ TABLE \S+ {MIGRATIONS_TABLE} ", listing, re.MULTILINE):
        raise BackupError(f"{path} is not a Parlor PostgreSQL backup: it has no "
                          f"{MIGRATIONS_TABLE} table.")


def _pg_connection(url: URL, passfile: str | None) -> tuple[list[str], str | None]:
    """The tools' arguments for the database of ``url``, and its password. The password goes
    only into ``passfile`` (libpq's password file, owner-only), never on a command line."""
    query = {key: value if isinstance(value, str) else value[-1]
             for key, value in url.query.items()}
    args = []
    host = url.host or query.get("host")
    port = url.port or query.get("port")
    if host:
        args.append(f"--host={host}")
    if port:
        args.append(f"--port={port}")
    if url.username:
        args.append(f"--username={url.username}")
    settings = {"dbname": url.database or "",
                "connect_timeout": query.get("connect_timeout", CONNECT_TIMEOUT_SECONDS),
                **{key: value for key, value in query.items() if key in PG_QUERY_SETTINGS}}
    password = url.password or query.get("password")
    if password and passfile:
        settings["passfile"] = passfile
    args.append("--dbname=" + " ".join(f"{key}={_conninfo_value(str(value))}"
                                       for key, value in settings.items()))
    return args, str(password) if password else None


def _passfile_line(password: str) -> str:
    """A libpq password file line matching any server for ``password`` (``:`` and ``\\``
    escaped)."""
    return "*:*:*:*:" + password.replace("\\", "\\\\").replace(":", "\\:") + "\n"


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _run_pg_tool(tool: str, url: URL | None, args: list[str], *, failure: str = "") -> str:
    """Run ``tool`` (against ``url``'s database, if given); returns its standard output.
    Its error text is passed on with the password blanked out."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} is not installed: install the {PG_CLIENT_PACKAGE} package "
                          "(its major version at least the server's).")
    with tempfile.TemporaryDirectory(prefix="parlor-pg-") as folder:
        passfile = str(Path(folder) / "pgpass")
        connection_args, password = (_pg_connection(url, passfile) if url is not None
                                     else ([], None))
        if password:
            descriptor = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(_passfile_line(password))
        # An argument list, no shell: the configured URL's parts cannot become commands.
        completed = subprocess.run([executable, *connection_args, *args],  # noqa: S603
                                   capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = completed.stderr.strip() or f"exit status {completed.returncode}"
        if password:
            detail = detail.replace(password, "***")
        raise BackupError(f"{failure or tool + ' failed'}:\n{detail}")
    return completed.stdout
