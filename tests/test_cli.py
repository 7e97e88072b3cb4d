"""The calendar-service command, through click's runner."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.cli import listening_url, main
from tests.conftest import make_settings
from tests.factories import everything


def _run(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["--database-url", database_url, *args], catch_exceptions=False
    )
    return result


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "migrate", "token", "demo", "export"):
        assert command in result.output


def test_token_create_prints_only_the_token(database_url: str) -> None:
    assert _run(database_url, "migrate").exit_code == 0
    result = _run(database_url, "token", "create", "--name", "site web", "--role", "admin")
    assert result.exit_code == 0
    secret = result.stdout.strip()
    assert secret.startswith("cal_") and "\n" not in secret and len(secret) > 40
    assert "site web" in result.stderr
    listed = _run(database_url, "token", "list").stdout
    assert "site web" in listed and "admin" in listed and "active" in listed
    assert secret not in listed
    settings = make_settings(database_url)
    with TestClient(create_app(settings)) as client:
        ok = client.get("/api/tokens", headers={"Authorization": f"Bearer {secret}"})
        assert ok.status_code == 200
        token_id = ok.json()["items"][0]["id"]
        assert _run(database_url, "token", "revoke", str(token_id)).exit_code == 0
        refused = client.get("/api/tokens", headers={"Authorization": f"Bearer {secret}"})
        assert refused.status_code == 401
    assert _run(database_url, "token", "revoke", str(token_id)).exit_code != 0


def test_token_create_refuses_an_unknown_role(database_url: str) -> None:
    result = CliRunner().invoke(
        main, ["--database-url", database_url, "token", "create", "--name", "x", "--role", "boss"]
    )
    assert result.exit_code == 2
    assert "boss" in result.output


def test_demo_loads_the_newsletter_events_once(database_url: str) -> None:
    first = _run(database_url, "demo", "--if-empty", "--today", "2026-11-27")
    assert first.exit_code == 0, first.output
    second = _run(database_url, "demo", "--if-empty")
    assert "nothing loaded" in second.stderr
    exported = json.loads(_run(database_url, "export", "--format", "json").stdout)
    titles = " ".join(e["title"]["fr"] for e in exported)
    assert "Outrepasser" in titles and "Concert solidaire" in titles
    assert len(exported) >= 10
    assert all(date.fromisoformat(e["start"][:10]) > date(2026, 11, 27) for e in exported)
    assert {e["timezone"] for e in exported} >= {"Europe/Paris", "Indian/Mayotte"}
    assert any(e["recurrence"] for e in exported)
    assert any(e["all_day"] for e in exported)


def test_export_round_trips_through_post(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _run(database_url, "demo", "--today", "2026-11-27")
    exported = json.loads(_run(database_url, "export").stdout)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    _run(other, "migrate")
    secret = _run(other, "token", "create", "--name", "import").stdout.strip()
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(make_settings(other))) as client:
        for document in exported:
            response = client.post("/api/events", json=document, headers=headers)
            assert response.status_code == 201, response.text
        assert len(everything(client, headers)) == len(exported)
    assert json.loads(_run(other, "export").stdout) == exported


def test_bad_settings_are_reported_clearly(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CALENDAR_DEFAULT_TIMEZONE", "Mars/Olympus")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 1
    assert "CALENDAR_DEFAULT_TIMEZONE" in result.output
    assert "Mars/Olympus" in result.output


def test_migrate_names_the_events_stored_in_a_zone_calendars_do_not_share(
    database_url: str,
) -> None:
    import sqlalchemy as sa

    from calendar_service.db.tables import events
    from tests.conftest import run_on

    assert _run(database_url, "migrate").exit_code == 0
    assert _run(database_url, "demo").exit_code == 0

    async def older_version(storage):  # type: ignore[no-untyped-def]
        first = await storage.fetch_val(sa.select(sa.func.min(events.c.id)))
        await storage.execute(
            events.update().where(events.c.id == first).values(timezone="US/Eastern")
        )
        return first

    changed = run_on(make_settings(database_url), older_version)
    result = _run(database_url, "migrate")
    assert result.exit_code == 0
    assert f"event {changed} " in result.stderr
    assert "'US/Eastern', which calendars do not share" in result.stderr
    assert "'America/New_York'" in result.stderr


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9123"),
        ("0.0.0.0", "http://127.0.0.1:9123"),
        ("::", "http://127.0.0.1:9123"),
        ("::1", "http://[::1]:9123"),
        ("agenda.local", "http://agenda.local:9123"),
    ],
)
def test_links_follow_the_address_the_service_listens_on(host: str, url: str) -> None:
    assert listening_url(host, 9123) == url
