"""The storage layer's promises: SQLite settings, atomic writes, cascades."""

from __future__ import annotations

import pytest

from calendar_service.db.connection import Storage, migrate
from calendar_service.settings import Settings
from tests.conftest import run_on


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'c.db'}"
    migrate(url)

    async def pragmas(storage: Storage) -> tuple[object, ...]:
        return (
            await storage.fetch_val("PRAGMA journal_mode"),
            await storage.fetch_val("PRAGMA foreign_keys"),
            await storage.fetch_val("PRAGMA busy_timeout"),
        )

    journal, foreign_keys, busy = run_on(Settings(database_url=url), pragmas)
    assert journal == "wal"
    assert foreign_keys == 1
    assert busy >= 5000


def test_a_failed_transaction_writes_nothing(migrated: Settings) -> None:
    async def work(storage: Storage) -> int:
        with pytest.raises(RuntimeError):  # noqa: PT012 - the block is the transaction
            async with storage.transaction():
                await storage.execute(
                    "INSERT INTO tokens (name, role, token_hash, prefix, created_us) "
                    "VALUES ('x', 'editor', 'h', 'p', 1)"
                )
                raise RuntimeError("interrupted")
        return int(await storage.fetch_val("SELECT count(*) FROM tokens"))

    assert run_on(migrated, work) == 0
