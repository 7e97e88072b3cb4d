"""Each event's history: the API and imports write who changed what, in the same transaction as
the change, and a refused change writes nothing."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from calendar_service.cli import main
from calendar_service.db import history
from calendar_service.settings import Settings
from tests.conftest import run_on
from tests.factories import create

ICS = {"Content-Type": "text/calendar; charset=utf-8"}


def lines(settings: Settings, event_id: int) -> list[tuple[str, str, list[str]]]:
    """The event's history, oldest first, as (actor, action, changes)."""
    found = run_on(settings, lambda s: history.for_event(s, event_id=event_id))
    return [(e.actor, e.action, e.changes) for e in reversed(found)]


def calendar(*, sequence: int, summary: str, status: str = "CONFIRMED") -> bytes:
    """A one-event iCalendar file, as a calendar application would export it."""
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tests//History//FR\r\n"
        "BEGIN:VEVENT\r\nUID:history-1@example.org\r\nDTSTAMP:20200101T000000Z\r\n"
        f"SEQUENCE:{sequence}\r\nSTATUS:{status}\r\nSUMMARY:{summary}\r\n"
        "DTSTART;TZID=Europe/Paris:20270506T183000\r\n"
        "DTEND;TZID=Europe/Paris:20270506T220000\r\n"
        "LOCATION:Salle des fêtes\\, 1 place de la Mairie\\, 75020 Paris\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def imported_id(client: Any, editor: dict[str, str]) -> int:
    found = client.get(
        "/api/events",
        params={"updated_since": "1970-01-01T00:00:00Z", "state": "draft,published,pending"},
        headers=editor,
    ).json()["items"]
    assert len(found) == 1, found
    return int(found[0]["id"])


def test_api_create_is_written_with_the_token_name(client, migrated, editor) -> None:  # type: ignore[no-untyped-def]
    made = create(client, editor)
    [(actor, action, changes)] = lines(migrated, made["id"])
    assert (actor, action) == ("token:editor", "created")
    assert "title.fr" in changes and "state" in changes


def test_api_patches_name_what_changed(client, migrated, editor, admin) -> None:  # type: ignore[no-untyped-def]
    made = create(client, editor, state="draft")
    url = f"/api/events/{made['id']}"
    assert client.patch(url, json={"state": "published"}, headers=editor).status_code == 200
    assert client.patch(url, json={"status": "cancelled"}, headers=admin).status_code == 200
    response = client.patch(url, json={"title": {"fr": "Concert annulé"}}, headers=editor)
    assert response.status_code == 200
    written = lines(migrated, made["id"])
    assert [(actor, action) for actor, action, _ in written] == [
        ("token:editor", "created"),
        ("token:editor", "published"),
        ("token:admin", "cancelled"),
        ("token:editor", "updated"),
    ]
    assert written[1][2] == ["state"]
    assert "status" in written[2][2]
    assert written[3][2] == ["title.fr"]


def test_a_refused_patch_writes_no_history(client, migrated, editor) -> None:  # type: ignore[no-untyped-def]
    made = create(client, editor)
    url = f"/api/events/{made['id']}"
    assert client.patch(url, json={"start": "not a date"}, headers=editor).status_code == 422
    assert client.patch(url, json={"uid": "other@example.org"}, headers=editor).status_code == 422
    stale = client.patch(url, json={"price": "5 €"}, headers={**editor, "If-Match": '"0-0"'})
    assert stale.status_code == 412
    assert [action for _, action, _ in lines(migrated, made["id"])] == ["created"]
    assert client.get(url).json()["title"] == made["title"]


def test_api_delete_is_written(client, migrated, editor) -> None:  # type: ignore[no-untyped-def]
    made = create(client, editor)
    url = f"/api/events/{made['id']}"
    assert client.delete(url, headers={**editor, "If-Match": '"0-0"'}).status_code == 412
    assert client.delete(url, headers=editor).status_code == 204
    assert client.delete(url, headers=editor).status_code == 410
    assert client.delete("/api/events/999999", headers=editor).status_code == 404
    assert lines(migrated, made["id"])[-1] == ("token:editor", "deleted", [])
    assert len(lines(migrated, made["id"])) == 2


def test_api_import_names_the_token(client, migrated, admin, editor) -> None:  # type: ignore[no-untyped-def]
    first = client.post(
        "/api/import", content=calendar(sequence=0, summary="Bal folk"), headers={**admin, **ICS}
    )
    assert first.json()["created"] == 1
    again = client.post(
        "/api/import", content=calendar(sequence=0, summary="Bal folk"), headers={**admin, **ICS}
    )
    assert again.json()["unchanged"] == 1
    changed = client.post(
        "/api/import",
        content=calendar(sequence=1, summary="Bal folk (annulé)", status="CANCELLED"),
        headers={**admin, **ICS},
    )
    assert changed.json()["updated"] == 1
    written = lines(migrated, imported_id(client, editor))
    assert [(actor, action) for actor, action, _ in written] == [
        ("import:admin", "created"),
        ("import:admin", "cancelled"),
    ]
    assert "title.fr" in written[1][2] and "status" in written[1][2]


def test_a_dry_run_import_writes_no_history(client, migrated, admin, editor) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/import",
        content=calendar(sequence=0, summary="Bal folk"),
        headers={**admin, **ICS},
        params={"dry_run": "1"},
    )
    assert response.json()["created"] == 1
    made = create(client, editor)
    assert [action for _, action, _ in lines(migrated, made["id"])] == ["created"]
    assert run_on(migrated, lambda s: history.for_event(s, event_id=made["id"] + 1)) == []


def test_cli_import_names_the_file(client, migrated, editor, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "agenda-mairie.ics"
    source.write_bytes(calendar(sequence=0, summary="Bal folk"))
    result = CliRunner().invoke(
        main, ["--database-url", migrated.database_url, "import", str(source)]
    )
    assert result.exit_code == 0, result.output
    written = lines(migrated, imported_id(client, editor))
    assert [(actor, action) for actor, action, _ in written] == [
        ("import:agenda-mairie.ics", "created")
    ]
