"""The connection to the database: the only module that imports ``databases``.

SQLite (embedded default) and PostgreSQL (asyncpg) run the same SQLAlchemy Core statements.
On SQLite every connection gets foreign keys and a busy timeout, the file is in WAL mode, and
writes take the write lock up front (``BEGIN IMMEDIATE``) so concurrent writers queue instead
of failing.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sqlite3
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import databases
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.sql import ClauseElement

SQLITE_BUSY_TIMEOUT_S = 30.0
_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "in_transaction", default=False
)
MIGRATIONS = Path(__file__).parent / "migrations"


class _SQLiteConnection(sqlite3.Connection):
    """Every SQLite connection the service opens: foreign keys on, wait on a busy database."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA foreign_keys = ON")
        self.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        self.execute("PRAGMA synchronous = NORMAL")


def sqlalchemy_url(url: str) -> str:
    """The async SQLAlchemy URL (for Alembic) of a service database URL."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


def is_unique_violation(exc: BaseException) -> bool:
    """Whether ``exc`` is a unique-constraint violation, on either engine."""
    name = type(exc).__name__
    if name == "UniqueViolationError":
        return True
    return name == "IntegrityError" and "UNIQUE" in str(exc).upper()


class Storage:
    """A connected database: run queries, and group writes in a transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.kind = "sqlite" if url.startswith("sqlite") else "postgresql"
        options: dict[str, Any]
        if self.kind == "sqlite":
            options = {"factory": _SQLiteConnection, "timeout": SQLITE_BUSY_TIMEOUT_S}
        else:
            options = {"min_size": 1, "max_size": 20}
        self._database = databases.Database(url, **options)
        self._write_lock: asyncio.Lock | None = None

    async def connect(self) -> None:
        """Open the pool (PostgreSQL) or check the file (SQLite)."""
        await self._database.connect()
        self._write_lock = asyncio.Lock()
        if self.kind == "sqlite":
            await self._database.execute("PRAGMA journal_mode = WAL")

    async def disconnect(self) -> None:
        await self._database.disconnect()

    async def fetch_all(self, query: ClauseElement | str) -> list[Mapping[str, Any]]:
        # databases' Record reads columns by name like a mapping (with type processing).
        return cast(list[Mapping[str, Any]], await self._database.fetch_all(query))

    async def fetch_one(self, query: ClauseElement | str) -> Mapping[str, Any] | None:
        return cast(Mapping[str, Any] | None, await self._database.fetch_one(query))

    async def fetch_tuples(self, query: ClauseElement) -> list[tuple[Any, ...]]:
        """Rows as the driver returns them, without the per-row wrapping and type processing of
        ``databases`` (most of the cost of a wide result: a feed's 10,000 stored VEVENTs). For
        columns whose driver values need no processing: text and integers."""
        async with self._database.connection() as connection:
            # databases' own compilation, so that parameters are bound as for every query.
            compiled = connection._connection._compile(query)  # type: ignore[attr-defined]
            sql, args = compiled[0], compiled[1]
            raw = connection.raw_connection
            if self.kind == "sqlite":
                async with raw.execute(sql, args) as cursor:
                    return [tuple(row) for row in await cursor.fetchall()]
            return [tuple(row) for row in await raw.fetch(sql, *args)]

    async def fetch_val(self, query: ClauseElement | str) -> Any:
        return await self._database.fetch_val(query)

    async def execute(self, query: ClauseElement | str) -> Any:
        return await self._database.execute(query)

    async def optimise(self) -> None:
        """Let SQLite refresh its planner statistics (PostgreSQL's autovacuum does its own)."""
        if self.kind == "sqlite":
            await self._database.execute("PRAGMA optimize")

    async def insert_rows(self, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` with multi-row INSERTs: one statement per chunk, not per row."""
        chunk = max(1, 2_000 // max(1, len(table.columns)))
        for i in range(0, len(rows), chunk):
            await self._database.execute(sa.insert(table).values(list(rows[i : i + chunk])))

    async def lock(self, key: str) -> None:
        """Hold a lock named ``key`` until the current transaction ends.

        SQLite writers are already one at a time; PostgreSQL takes an advisory lock, so that
        two writers choosing the same new name (a slug) do it one after the other.
        """
        if self.kind == "postgresql":
            await self._database.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))").bindparams(key=key)
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All queries of this task inside the block commit together, or not at all.

        A transaction opened inside another one of the same task joins it.
        """
        if _in_transaction.get():
            yield
            return
        marker = _in_transaction.set(True)
        try:
            async with self._transaction():
                yield
        finally:
            _in_transaction.reset(marker)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        if self.kind == "postgresql":
            async with self._database.transaction():
                yield
            return
        assert self._write_lock is not None, "Storage.connect() was not awaited"
        # One writer at a time in this process; BEGIN IMMEDIATE makes writers in other
        # processes wait for the lock (busy timeout) rather than fail on upgrade.
        async with self._write_lock, self._database.connection() as connection:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")


def _alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.attributes["url"] = sqlalchemy_url(url)
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration this version of the code has (read from the files once)."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migration in calendar_service/db/migrations"
    return head


async def table_exists(storage: Storage, name: str) -> bool:
    """Whether the database has a table ``name`` (in the current schema on PostgreSQL)."""
    if storage.kind == "sqlite":
        query = sa.text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name"
        ).bindparams(name=name)
    else:
        query = sa.text("SELECT to_regclass(:name) IS NOT NULL").bindparams(name=name)
    return bool(await storage.fetch_val(query))


async def schema_revision(storage: Storage) -> str | None:
    """The migration the database is at; None when none was ever applied."""
    if not await table_exists(storage, "alembic_version"):
        return None
    found = await storage.fetch_val(sa.text("SELECT version_num FROM alembic_version"))
    return str(found) if found is not None else None


def migrate(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision`` (blocking; safe inside an event loop)."""
    config = _alembic_config(url)
    error: list[BaseException] = []

    def run() -> None:
        try:
            command.upgrade(config, revision)
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    # env.py runs its own event loop, which cannot nest in a running one: use a thread.
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if error:
        raise error[0]
