"""The migrations build exactly the schema the code declares, and run twice harmlessly."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from calendar_service.db.connection import migrate, sqlalchemy_url
from calendar_service.db.tables import metadata


def _declared(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    """What the tables declare: the full-text index is the migration's alone (an FTS5 table
    and its shadow tables on SQLite, a generated ``tsvector`` column on PostgreSQL)."""
    if kind == "table" and (name or "").startswith("event_search"):
        return False
    if kind == "index" and name == "ix_events_search_vector":
        return False
    return not (kind == "column" and name == "search_vector")


def _differences(url: str) -> list[object]:
    async def main() -> list[object]:
        engine = create_async_engine(sqlalchemy_url(url))
        options = {"include_object": _declared}
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts=options), metadata
                )
            )
        await engine.dispose()
        return list(diff)

    return asyncio.run(main())


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)
    assert _differences(database_url) == []
