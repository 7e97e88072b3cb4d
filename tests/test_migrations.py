"""The migrations build exactly the schema the code declares, and run twice harmlessly."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from calendar_service.db.connection import migrate, sqlalchemy_url
from calendar_service.db.tables import metadata


def _differences(url: str) -> list[object]:
    async def main() -> list[object]:
        engine = create_async_engine(sqlalchemy_url(url))
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        await engine.dispose()
        return list(diff)

    return asyncio.run(main())


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)
    assert _differences(database_url) == []
