"""Backups: a whole database to one file, and back.

SQLite goes through its online backup API: a consistent copy taken while the service runs and
writes (WAL lets readers and the one writer proceed together). PostgreSQL goes through
``pg_dump --format=custom`` and ``pg_restore``; the connection details reach them in libpq's
environment variables (PGHOST, PGPASSWORD...), never on their command line, which every user
of the machine can read. A restore refuses to replace a database that holds events unless
forced; the caller then applies the migrations the backup lacks.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import sqlalchemy as sa

from calendar_service.db.connection import Storage, table_exists

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# URL parameters pg_dump and pg_restore understand, and the variable that gives each to libpq.
LIBPQ_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(Exception):
    """A backup or restore that cannot be done, with what to do about it."""


def backup(url: str, file: Path) -> None:
    """Copy the database at ``url`` to ``file``; a complete file or none (written aside, then
    renamed over any older one)."""
    partial = file.with_name(f".{file.name}.partial")
    try:
        if url.startswith("sqlite"):
            _sqlite_backup(sqlite_path(url), partial)
        else:
            _run("pg_dump", ["--format=custom", f"--file={partial}", _dbname(url)], url)
        os.replace(partial, file)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"cannot back up to {file}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def restore(url: str, file: Path, *, force: bool) -> None:
    """Replace the database at ``url`` with the backup ``file``. Refused when the database holds
    events, unless ``force``. Migrations are the caller's next step."""
    kind = backup_kind(file)
    expected = "sqlite" if url.startswith("sqlite") else "postgresql"
    if kind is None:
        raise BackupError(f"{file} is not a backup made by `calendar-service backup`")
    if kind != expected:
        raise BackupError(
            f"{file} is a {kind} backup and the database is {expected}: move the events with "
            "`calendar-service export` and POST /api/events instead"
        )
    held = asyncio.run(_stored_events(url))
    if held and not force:
        raise BackupError(
            f"the database holds {held} events, which the restore would replace: "
            "back it up first, then add --force"
        )
    if kind == "sqlite":
        try:
            _sqlite_restore(file, sqlite_path(url))
        except sqlite3.Error as exc:
            raise BackupError(f"cannot restore into {sqlite_path(url)}: {exc}") from None
    else:
        asyncio.run(_drop_tables(url))
        _run(
            "pg_restore",
            ["--single-transaction", "--no-owner", "--no-acl", f"--dbname={_dbname(url)}", file],
            url,
        )


def backup_kind(file: Path) -> str | None:
    """'sqlite' or 'postgresql' after the first bytes of ``file``; None for anything else."""
    with file.open("rb") as handle:
        start = handle.read(len(SQLITE_MAGIC))
    if start == SQLITE_MAGIC:
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    return None


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    path = unquote(urlsplit(url).path).removeprefix("/")
    if not path:
        raise BackupError(f"{url} names no database file")
    return Path(path)


def _sqlite_backup(source: Path, file: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    origin = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(file)
    try:
        origin.backup(copy)
        # One self-contained file, whatever journal mode the service's database is in.
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()
        origin.close()


def _sqlite_restore(file: Path, target: Path) -> None:
    saved = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if not saved.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()[0]:
            raise BackupError(f"{file} is a SQLite database but not one of this service")
        database = sqlite3.connect(target, timeout=30)
        try:
            # The backup API replaces every page of the target in one transaction.
            saved.backup(database)
            database.execute("PRAGMA journal_mode = WAL")
        finally:
            database.close()
    finally:
        saved.close()


async def _stored_events(url: str) -> int:
    """How many events (deleted ones included) the database at ``url`` holds; 0 if no table."""
    if url.startswith("sqlite") and not sqlite_path(url).exists():
        return 0  # connecting would create the file
    storage = Storage(url)
    try:
        await storage.connect()
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"cannot reach the database: {exc}") from None
    try:
        if not await table_exists(storage, "events"):
            return 0
        return int(await storage.fetch_val(sa.text("SELECT count(*) FROM events")))
    finally:
        await storage.disconnect()


async def _drop_tables(url: str) -> None:
    """Drop every table of the current schema: a restore leaves none the backup lacks (a newer
    version's table would make the next migration fail)."""
    storage = Storage(url)
    await storage.connect()
    try:
        names = [
            row["tablename"]
            for row in await storage.fetch_all(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        ]
        if names:
            quoted = ", ".join('"' + name.replace('"', '""') + '"' for name in names)
            async with storage.transaction():
                await storage.execute(sa.text(f"DROP TABLE IF EXISTS {quoted} CASCADE"))
    finally:
        await storage.disconnect()


def _dbname(url: str) -> str:
    """A libpq connection string naming only the database (quoted: its name may hold '=')."""
    name = unquote(urlsplit(url).path.removeprefix("/"))
    if not name:
        raise BackupError(f"{_safe(url)} names no database")
    return "dbname='" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_environment(url: str) -> dict[str, str]:
    """The libpq variables (PGHOST, PGUSER, PGPASSWORD...) that connect to ``url``."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise BackupError(f"{_safe(url)}: one host and port only, please") from None
    found: dict[str, str] = {}
    if parts.hostname:
        found["PGHOST"] = unquote(parts.hostname)
    if port:
        found["PGPORT"] = str(port)
    if parts.username:
        found["PGUSER"] = unquote(parts.username)
    if parts.password:
        found["PGPASSWORD"] = unquote(parts.password)
    for name, value in parse_qsl(parts.query):
        if name not in LIBPQ_VARIABLES:
            raise BackupError(f"pg_dump and pg_restore do not know the URL parameter {name!r}")
        found[LIBPQ_VARIABLES[name]] = value
    return found


def _run(tool: str, arguments: list[str | Path], url: str) -> None:
    binary = shutil.which(tool)
    if binary is None:
        raise BackupError(
            f"{tool} is not installed (or not on PATH): install the PostgreSQL client tools "
            "of the server's version or newer (Debian: apt-get install postgresql-client)"
        )
    done = subprocess.run(
        [binary, *map(str, arguments)],
        env={**os.environ, **libpq_environment(url)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()}")


def _safe(url: str) -> str:
    """``url`` without its password, fit for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
