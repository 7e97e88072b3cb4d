"""Fixtures: database URL (SQLite and PostgreSQL) -> settings -> app -> client, and tokens."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.db.connection import Storage, migrate
from calendar_service.db.tokens import create_token
from calendar_service.render.newsletter import NewsletterTemplates
from calendar_service.settings import Settings
from tests.emailsafety import email_problems

POSTGRES_SERVER = os.environ.get(
    "CALENDAR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


DATABASE_KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind; PostgreSQL ones are dropped afterwards."""
    with throwaway_database(request.param, tmp_path) as url:
        yield url


@contextlib.contextmanager
def throwaway_database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database of ``kind`` (a file in ``folder``, or a PostgreSQL database
    dropped afterwards); without a PostgreSQL server the test is skipped, or fails in CI."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'calendar.db'}"
        return
    name = f"calendar_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL not reachable at {POSTGRES_SERVER}: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the PostgreSQL tests must run)")
        pytest.skip(message)
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "base_url": "http://testserver",
        "environment": "development",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    migrate(settings.database_url)
    return settings


def run_on(settings: Settings, work):  # type: ignore[no-untyped-def]
    """Run ``work(storage)`` on its own connection, outside any app."""

    async def main():  # type: ignore[no-untyped-def]
        storage = Storage(settings.database_url)
        await storage.connect()
        try:
            return await work(storage)
        finally:
            await storage.disconnect()

    return asyncio.run(main())


@pytest.fixture
def tokens(migrated: Settings) -> dict[str, str]:
    """Secrets of an editor, an admin and a revoked token."""

    async def make(storage: Storage) -> dict[str, str]:
        from calendar_service.db.tokens import revoke_token

        _, editor = await create_token(storage, name="editor", role="editor")
        _, admin = await create_token(storage, name="admin", role="admin")
        revoked_token, revoked = await create_token(storage, name="old", role="admin")
        await revoke_token(storage, token_id=revoked_token.id)
        return {"editor": editor, "admin": admin, "revoked": revoked}

    return run_on(migrated, make)  # type: ignore[no-any-return]


@pytest.fixture
def client(migrated: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(migrated)) as test_client:
        yield test_client


@pytest.fixture
def editor(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['editor']}"}


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['admin']}"}


@pytest.fixture(autouse=True)
def _every_newsletter_html_is_email_safe(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every HTML newsletter block or digest any test renders passes the e-mail safety checks.

    A failure is recorded and raised when the test ends: a shared page leaves out a block that
    fails to render (``resilience``), and a block may be rendered in a worker thread."""
    original_block, original_digest = NewsletterTemplates.block, NewsletterTemplates.digest
    failures: list[str] = []

    def block(self, view, fmt, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = original_block(self, view, fmt, *args, **kwargs)
        if fmt == "html":
            # A digest's blocks (h4) take their h2 and h3 from the digest around them.
            inner = kwargs.get("heading", 2) > 3
            problems = email_problems(result, lang=view["lang"])
            if [p for p in problems if not (inner and p.startswith("[structure]"))]:
                failures.append("\n".join(problems) + "\n" + result[:400])
        return result

    def digest(self, view, groups, fmt, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = original_digest(self, view, groups, fmt, *args, **kwargs)
        if fmt == "html":
            problems = email_problems(result, lang=view["lang"])
            if problems:
                failures.append("\n".join(problems) + "\n" + result[:400])
        return result

    monkeypatch.setattr(NewsletterTemplates, "block", block)
    monkeypatch.setattr(NewsletterTemplates, "digest", digest)
    yield
    assert not failures, "e-mail HTML that is not safe:\n" + "\n\n".join(failures)
