"""`calendar-service backup` and `restore`, on both databases: every row comes back."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.cli import main
from calendar_service.db.connection import Storage, head_revision, migrate, schema_revision
from calendar_service.db.tables import metadata
from calendar_service.settings import Settings
from tests.conftest import POSTGRES_SERVER, _admin, make_settings, run_on
from tests.factories import create


def cli(database_url: str, *args: str) -> Result:
    """The command run with the settings of the tests' apps (the base URL is in every VEVENT)."""
    runner = CliRunner(env={"CALENDAR_BASE_URL": "http://testserver"})
    return runner.invoke(main, ["--database-url", database_url, *args])


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        (tmp_path / "restored").mkdir()
        yield f"sqlite:///{tmp_path / 'restored' / 'calendar.db'}"
        return
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    name = f"calendar_restore_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def every_row(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary key order."""

    async def read(storage: Storage) -> dict[str, list[dict[str, Any]]]:
        return {
            table.name: [
                dict(row)
                for row in await storage.fetch_all(
                    sa.select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in metadata.sorted_tables
        }

    return run_on(make_settings(url), read)  # type: ignore[no-any-return]


def feed(url: str) -> bytes:
    with TestClient(create_app(make_settings(url))) as client:
        response = client.get("/feeds/agenda.ics", headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200
        return response.content


def fill(client: TestClient, editor: dict[str, str]) -> None:
    """Events of every kind: plain, weekly, all-day, cancelled, deleted, and a draft."""
    create(client, editor)
    create(client, editor, recurrence={"rrule": "FREQ=WEEKLY;COUNT=8"}, tags=["hebdo"])
    create(client, editor, all_day=True, start="2027-06-12", end="2027-06-14", timezone=None)
    create(client, editor, status="cancelled", title={"fr": "Concert annulé", "en": "Cancelled"})
    gone = create(client, editor)
    assert client.delete(f"/api/events/{gone['id']}", headers=editor).status_code == 204
    create(client, editor, state="draft")


def test_a_backup_restored_into_a_fresh_database_gives_every_row_back(
    client: TestClient, editor: dict[str, str], database_url: str, fresh_url: str, tmp_path: Path
) -> None:
    fill(client, editor)
    file = tmp_path / "calendar.backup"
    # Taken while the service runs (its connections open, its last writes in the WAL).
    made = cli(database_url, "backup", str(file))
    assert made.exit_code == 0, made.output
    assert f"backed up the database to {file}" in made.stderr
    restored = cli(fresh_url, "restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert f"restored {file}: 6 events, deleted ones included" in restored.stderr

    original = every_row(database_url)
    assert len(original["events"]) == 6 and original["event_ical"] and original["occurrences"]
    assert every_row(fresh_url) == original
    assert feed(fresh_url) == feed(database_url)
    # The restored database goes on: new rows get new ids, not ones already used.
    with TestClient(create_app(make_settings(fresh_url))) as restored_client:
        assert restored_client.get("/readyz").status_code == 200
        newest = create(restored_client, editor)
        assert newest["id"] > max(row["id"] for row in original["events"])


def test_restore_refuses_a_database_holding_events_unless_forced(
    client: TestClient, editor: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    create(client, editor, title="Avant la sauvegarde")
    file = tmp_path / "calendar.backup"
    assert cli(database_url, "backup", str(file)).exit_code == 0
    create(client, editor, title="Après la sauvegarde")
    refused = cli(database_url, "restore", str(file))
    assert refused.exit_code == 1
    assert "holds 2 events" in refused.stderr and "--force" in refused.stderr
    assert len(every_row(database_url)["events"]) == 2
    forced = cli(database_url, "restore", "--force", str(file))
    assert forced.exit_code == 0, forced.output
    titles = [row["document"] for row in every_row(database_url)["events"]]
    assert len(titles) == 1 and "Avant la sauvegarde" in str(titles[0])


def test_a_backup_of_an_older_version_is_upgraded_on_restore(
    database_url: str, fresh_url: str, tmp_path: Path
) -> None:
    migrate(database_url, revision="0005")
    file = tmp_path / "old.backup"
    assert cli(database_url, "backup", str(file)).exit_code == 0
    restored = cli(fresh_url, "restore", str(file))
    assert restored.exit_code == 0, restored.output

    async def revision(storage: Storage) -> str | None:
        return await schema_revision(storage)

    assert run_on(make_settings(fresh_url), revision) == head_revision()


def test_restore_refuses_what_is_not_a_backup_of_this_kind(
    database_url: str, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    refused = cli(database_url, "restore", str(junk))
    assert refused.exit_code == 1 and "is not a backup" in refused.stderr
    other = tmp_path / "other.backup"
    if database_url.startswith("sqlite"):
        other.write_bytes(b"PGDMP\x01\x0f\x00")
        expected = "is a postgresql backup and the database is sqlite"
    else:
        other.write_bytes(b"SQLite format 3\x00" + bytes(100))
        expected = "is a sqlite backup and the database is postgresql"
    refused = cli(database_url, "restore", str(other))
    assert refused.exit_code == 1 and expected in refused.stderr


def test_a_backup_into_a_missing_folder_says_so(migrated: Settings, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "folder" / "calendar.backup"
    failed = cli(migrated.database_url, "backup", str(target))
    assert failed.exit_code == 1 and isinstance(failed.exception, SystemExit)
    assert f"cannot back up to {target}" in failed.stderr or "pg_dump failed" in failed.stderr


def test_the_postgresql_password_stays_out_of_the_process_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    calls: list[tuple[list[str], dict[str, str]]] = []
    real_run = subprocess.run

    def watched_run(arguments: list[str], **options: Any) -> Any:
        calls.append((arguments, options["env"]))
        return real_run(arguments, **options)

    monkeypatch.setattr(subprocess, "run", watched_run)
    # A closed port: pg_dump fails, after being started with what it was given.
    url = "postgresql://editor:pa%2Fss-w0rd@127.0.0.1:1/calendar?sslmode=disable"
    failed = cli(url, "backup", str(tmp_path / "x.backup"))
    assert failed.exit_code == 1 and "pg_dump failed" in failed.stderr
    assert "pa/ss-w0rd" not in failed.output and "pa%2Fss-w0rd" not in failed.output
    ((arguments, environment),) = calls
    assert not any("w0rd" in argument for argument in arguments)
    assert environment["PGPASSWORD"] == "pa/ss-w0rd"
    assert (environment["PGHOST"], environment["PGPORT"]) == ("127.0.0.1", "1")
    assert (environment["PGUSER"], environment["PGSSLMODE"]) == ("editor", "disable")
    assert not (tmp_path / "x.backup").exists()


def test_backup_says_so_when_pg_dump_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    failed = cli("postgresql://postgres@127.0.0.1:5432/calendar", "backup", str(tmp_path / "b"))
    assert failed.exit_code == 1
    assert "pg_dump is not installed" in failed.stderr
    assert "postgresql-client" in failed.stderr
