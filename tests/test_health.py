"""Liveness (/healthz) and readiness (/readyz), on both databases."""

from __future__ import annotations

import asyncio
import shutil

from starlette.testclient import TestClient

from calendar_service import __version__
from calendar_service.app import create_app
from calendar_service.db.backup import sqlite_path
from calendar_service.db.connection import head_revision, migrate
from calendar_service.settings import Settings
from tests.conftest import _admin


def make_database_vanish(url: str) -> None:
    """The database goes away under a running app: its SQLite folder is removed, or its
    PostgreSQL database dropped (its connections closed)."""
    if url.startswith("sqlite"):
        shutil.rmtree(sqlite_path(url).parent)
    else:
        name = url.rsplit("/", 1)[1]
        asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_ready_after_migrate(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "ok",
        "version": __version__,
    }
    assert response.headers["cache-control"] == "no-store"


def test_liveness_says_ok_and_the_version(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_not_ready_on_an_older_schema_until_migrated(settings: Settings) -> None:
    migrate(settings.database_url, revision="0005")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable" and body["database"] == "ok"
        assert "0005" in body["migrations"] and head_revision() in body["migrations"]
        assert "calendar-service migrate" in body["migrations"]
        assert client.get("/healthz").status_code == 200
        migrate(settings.database_url)
        assert client.get("/readyz").status_code == 200


def test_not_ready_on_a_database_never_migrated(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"].startswith("at none,")


def test_not_ready_but_alive_when_the_database_is_gone(migrated: Settings) -> None:
    with TestClient(create_app(migrated)) as client:
        assert client.get("/readyz").status_code == 200
        make_database_vanish(migrated.database_url)
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["database"].startswith("unreachable: ")
        assert body["migrations"] == "unknown"
        # Liveness asks no database: the process is fine, only its database is not.
        alive = client.get("/healthz")
        assert alive.status_code == 200 and alive.json()["status"] == "ok"
