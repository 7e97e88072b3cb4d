"""Several processes started at once on a new PostgreSQL database (each `serve` applies the
migrations on start, and compose or an orchestrator may start replicas together): one
migrates, the others wait for it, and none fails."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from calendar_service.db.connection import Storage, head_revision, schema_revision
from tests.servers import ROOT


# PostgreSQL only: processes sharing one SQLite file are not a deployment.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_concurrent_migrations_of_a_new_database_all_succeed(database_url: str) -> None:
    command = [
        sys.executable,
        "-c",
        "from calendar_service.cli import main; main()",
        "--database-url",
        database_url,
        "migrate",
    ]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "CALENDAR_FEEDS_DIR": str(ROOT / "feeds")}
    processes = [
        subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors

    async def revision() -> str | None:
        storage = Storage(database_url)
        await storage.connect()
        try:
            return await schema_revision(storage)
        finally:
            await storage.disconnect()

    assert asyncio.run(revision()) == head_revision()
