"""Alembic environment: runs the migrations on the async engine of the service's URL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from calendar_service.db.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Each `serve` migrates on start, and replicas may start together: the first takes
            # this lock and migrates, the others wait for its commit, then find nothing to do
            # (without it, both create alembic_version and one fails).
            lock = "SELECT pg_advisory_xact_lock(hashtext('calendar_service.migrations'))"
            connection.execute(sa.text(lock))
        context.run_migrations()


async def _main() -> None:
    engine = create_async_engine(context.config.attributes["url"], poolclass=pool.NullPool)
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql("PRAGMA journal_mode = WAL")
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_main())
