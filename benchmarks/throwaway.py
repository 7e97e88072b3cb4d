"""What the benchmarks share: throwaway PostgreSQL databases and a temporary folder, removed
however the run ends."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

POSTGRES_SERVER = os.environ.get(
    "CALENDAR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def admin(sql: str) -> None:
    """Run one statement on the PostgreSQL server's maintenance database."""
    connection = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@dataclass
class Cleanup:
    """The temporary folder and the databases a run made, to remove at its end."""

    temp_dir: Path
    databases: list[str] = field(default_factory=list)

    def create(self, name: str) -> str | None:
        """Create database ``name``, to drop at the end, and return its URL; None, with a note,
        when the server can't be reached, so that the run goes on without PostgreSQL."""
        try:
            asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            print(f"  PostgreSQL not reachable at {POSTGRES_SERVER}: {exc}; skipped")
            return None
        self.databases.append(name)
        return POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name

    def drop(self, name: str) -> None:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.databases:
            self.databases.remove(name)

    def everything(self) -> None:
        for name in list(self.databases):
            try:
                self.drop(name)
            except Exception as exc:
                print(f"could not drop database {name}: {exc}", file=sys.stderr)
        shutil.rmtree(self.temp_dir, ignore_errors=True)
