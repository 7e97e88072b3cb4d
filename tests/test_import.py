"""Importing iCalendar files: exports of Google Calendar, Outlook and Thunderbird, and bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.cli import main
from calendar_service.db import events as store
from calendar_service.ical_import import parse_calendar
from calendar_service.imports import import_events
from calendar_service.render.ical import RenderContext, renderer
from calendar_service.settings import Settings
from tests.conftest import make_settings, run_on
from tests.factories import create, everything

DATA = Path(__file__).parent / "data"
ICS = {"Content-Type": "text/calendar; charset=utf-8"}


def _import(client, admin, name: str, **params: str):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/import", content=(DATA / name).read_bytes(), headers={**admin, **ICS}, params=params
    )
    return response


def _by_title(client, editor) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {e["title"]["fr"]: e for e in everything(client, editor) if not e.get("deleted")}


def test_google_calendar_export(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    report = _import(client, admin, "google-calendar.ics").json()
    assert (report["created"], report["rejected"]) == (5, [])
    events = _by_title(client, editor)
    series = events["Permanence juridique"]
    assert series["uid"] == "3mq1f0r2kq9s8t7u6v5w4x3y2z@google.com"
    assert series["start"] == "2027-03-04T14:00:00+01:00"
    assert series["sequence"] == 2
    assert series["recurrence"]["rrule"] == "FREQ=WEEKLY;UNTIL=20270527T120000Z;BYDAY=TH;WKST=MO"
    # The moved occurrence leaves the series and becomes an event of its own.
    assert set(series["recurrence"]["exdates"]) == {"2027-03-25T14:00:00", "2027-04-15T14:00:00"}
    moved = events["Permanence juridique (horaire décalé)"]
    assert (moved["start"], moved["end"]) == (
        "2027-03-25T16:00:00+01:00",
        "2027-03-25T19:00:00+01:00",
    )
    assert moved["description"] == {"fr": "Exceptionnellement l'après-midi."}
    # A UTC time from Google lands in the calendar's zone (X-WR-TIMEZONE).
    rally = events["Rassemblement pour l'État de droit"]
    assert (rally["start"], rally["timezone"]) == ("2027-04-10T14:00:00+02:00", "Europe/Paris")
    assert rally["status"] == "cancelled"
    expo = events["Exposition « Chemins de la liberté »"]
    assert (expo["start"], expo["end"], expo["all_day"]) == ("2027-06-12", "2027-06-14", True)
    assert events["Concert solidaire 🎶"]["location"]["name"].startswith("La Bellevilloise")
    occurrences = client.get("/api/occurrences?from=2027-03-01&to=2027-06-01&limit=100").json()
    weekly = [o["start"] for o in occurrences["items"] if o["event_id"] == series["id"]]
    assert len(weekly) == 11  # 13 Thursdays to 27 May, less the moved one and the EXDATE
    assert "2027-04-01T14:00:00+02:00" in weekly  # summer time, same wall-clock time


def test_outlook_export_with_windows_zone_names(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    report = _import(client, admin, "outlook.ics").json()
    assert (report["created"], report["rejected"]) == (3, [])
    events = _by_title(client, editor)
    talk = events["Conférence : 40 ans de rétention"]
    assert (talk["timezone"], talk["start"]) == ("Europe/Paris", "2027-03-11T18:30:00+01:00")
    assert talk["organizer"] == {
        "name": "Antenne Paris",
        "url": None,
        "email": "antenne@example.org",
    }
    assert "- situation à Mayotte" in talk["description"]["fr"]
    workshop = events["Atelier Cause Majeur !"]
    assert workshop["recurrence"]["exdates"] == ["2027-03-18T14:00:00"]
    day = events["Journée nationale de collecte"]
    assert (day["start"], day["end"], day["all_day"]) == ("2027-04-01", "2027-04-01", True)


def test_thunderbird_export(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    report = _import(client, admin, "thunderbird.ics").json()
    assert (report["created"], report["rejected"]) == (3, [])
    events = _by_title(client, editor)
    film = events["Projection-débat « Outrepasser »"]
    assert (film["category"], film["tags"]) == ("projection", ["frontieres"])
    assert film["url"] == "https://example.org/outrepasser"
    mayotte = events["Présentation du rapport à Mamoudzou"]
    assert (mayotte["timezone"], mayotte["start"]) == (
        "Indian/Mayotte",
        "2027-02-16T10:00:00+03:00",
    )
    assert mayotte["category"] == "conference"
    walk = events["Maraude solidaire"]
    assert walk["recurrence"]["exdates"] == ["2027-04-06T19:00:00"]  # given in UTC, kept local


def test_reimport_is_unchanged_and_a_newer_sequence_wins(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    _import(client, admin, "thunderbird.ics")
    again = _import(client, admin, "thunderbird.ics").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    newer = (
        (DATA / "thunderbird.ics")
        .read_bytes()
        .replace(
            b"SUMMARY:Maraude solidaire\r\n",
            b"SUMMARY:Maraude solidaire du mardi\r\nSEQUENCE:5\r\n",
        )
    )
    older = (
        (DATA / "thunderbird.ics")
        .read_bytes()
        .replace(b"SUMMARY:Maraude solidaire\r\n", b"SUMMARY:Vieille version\r\n")
    )
    response = client.post("/api/import", content=newer, headers={**admin, **ICS}).json()
    assert (response["updated"], response["unchanged"]) == (1, 2)
    response = client.post("/api/import", content=older, headers={**admin, **ICS}).json()
    assert (response["updated"], response["unchanged"]) == (0, 3)
    walk = _by_title(client, editor)["Maraude solidaire du mardi"]
    assert walk["sequence"] == 5


def test_bad_events_are_rejected_with_reasons_and_the_rest_imported(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    report = _import(client, admin, "broken-events.ics").json()
    assert report["created"] == 1
    reasons = {r["uid"]: r["reason"] for r in report["rejected"]}
    assert reasons[""] == "no UID"
    assert "FREQ=SOMETIMES" in reasons["bad-rrule@test"]
    assert "end is before the start" in reasons["end-before@test"]
    assert "Mars/Olympus" in reasons["unknown-tz@test"]
    assert "SUMMARY" in reasons["no-summary@test"]
    assert list(_by_title(client, editor)) == ["Le seul bon"]


def test_strict_refuses_the_whole_file(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    response = _import(client, admin, "broken-events.ics", strict="1")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} >= {"bad-rrule@test", "end-before@test"}
    assert everything(client, editor) == []


def test_dry_run_writes_nothing(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    report = _import(client, admin, "google-calendar.ics", dry_run="1").json()
    assert (report["created"], report["dry_run"], report["written"]) == (5, True, False)
    assert everything(client, editor) == []


@pytest.mark.parametrize("name", ["not-a-calendar.ics", "truncated.ics"])
def test_files_that_are_not_calendars_are_refused(client, admin, editor, name) -> None:  # type: ignore[no-untyped-def]
    response = _import(client, admin, name)
    assert response.status_code == 400
    assert "not an iCalendar file" in response.json()["detail"]
    assert everything(client, editor) == []


def test_import_needs_an_admin_token(client, editor) -> None:  # type: ignore[no-untyped-def]
    data = (DATA / "thunderbird.ics").read_bytes()
    assert client.post("/api/import", content=data, headers=ICS).status_code == 401
    assert client.post("/api/import", content=data, headers={**editor, **ICS}).status_code == 403
    wrong_type = client.post(
        "/api/import", content=data, headers={**editor, "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 403  # the role is checked before the body


def test_an_interrupted_import_leaves_nothing(migrated: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    items = parse_calendar(
        (DATA / "google-calendar.ics").read_bytes(), default_timezone="Europe/Paris"
    )
    real_create = store.create_event
    calls = []

    async def failing_create(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the machine stopped")
        return await real_create(*args, **kwargs)

    monkeypatch.setattr(store, "create_event", failing_create)
    render = renderer(RenderContext.from_settings(migrated))

    async def work(storage):  # type: ignore[no-untyped-def]
        with pytest.raises(RuntimeError):
            await import_events(storage, items=items, settings=migrated, render=render)
        return await store.count_events(storage)

    assert run_on(migrated, work) == 0
    assert len(calls) == 3


def test_progress_is_reported(migrated: Settings) -> None:
    items = parse_calendar((DATA / "outlook.ics").read_bytes(), default_timezone="Europe/Paris")
    seen: list[tuple[int, int]] = []
    render = renderer(RenderContext.from_settings(migrated))

    async def work(storage):  # type: ignore[no-untyped-def]
        return await import_events(
            storage,
            items=items,
            settings=migrated,
            render=render,
            progress=lambda done, total: seen.append((done, total)),
        )

    run_on(migrated, work)
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_cli_import_reports_and_strict_exits_non_zero(database_url: str) -> None:
    runner = CliRunner()
    base = ["--database-url", database_url, "import"]
    strict = runner.invoke(main, [*base, str(DATA / "broken-events.ics"), "--strict"])
    assert strict.exit_code == 1
    assert "nothing was written" in strict.output
    dry = runner.invoke(main, [*base, str(DATA / "outlook.ics"), "--dry-run"])
    assert dry.exit_code == 0 and "would have created 3" in dry.stderr
    done = runner.invoke(main, [*base, str(DATA / "outlook.ics")])
    assert done.exit_code == 0 and "created 3" in done.stderr
    again = runner.invoke(main, [*base, str(DATA / "outlook.ics")])
    assert "unchanged 3" in again.stderr
    missing = runner.invoke(main, [*base, str(DATA / "nowhere.ics")])
    assert missing.exit_code == 1 and "nowhere.ics" in missing.output


def test_feed_export_then_import_gives_the_same_events(client, editor, tmp_path) -> None:  # type: ignore[no-untyped-def]
    create(
        client,
        editor,
        start="2027-03-18T18:30:00",
        end="2027-03-18T20:00:00",
        recurrence={"rrule": "FREQ=WEEKLY;UNTIL=20271104", "exdates": ["2027-04-01T18:30:00"]},
    )
    create(
        client, editor, start="2027-06-12", end="2027-06-14", all_day=True, category="exposition"
    )
    create(
        client,
        editor,
        start="2027-02-16T10:00:00",
        end="2027-02-16T12:00:00",
        timezone="Indian/Mayotte",
        category="conference",
    )
    create(client, editor, status="cancelled", start="2027-05-20T19:00:00", end=None)
    create(client, editor, status="postponed", title="Rencontre reportée")
    feed = client.get("/feeds/agenda.ics").content
    fields = ("uid", "start", "end", "all_day", "timezone", "recurrence", "status", "category")
    before = {
        e["uid"]: {f: e[f] for f in fields} | {"title": e["title"]["fr"]}
        for e in everything(client, editor)
    }
    other = make_settings(f"sqlite:///{tmp_path / 'copy.db'}")
    CliRunner().invoke(main, ["--database-url", other.database_url, "migrate"])
    secret = (
        CliRunner()
        .invoke(
            main,
            [
                "--database-url",
                other.database_url,
                "token",
                "create",
                "--name",
                "a",
                "--role",
                "admin",
            ],
        )
        .stdout.strip()
    )
    with TestClient(create_app(other)) as copy:
        headers = {"Authorization": f"Bearer {secret}"}
        report = copy.post("/api/import", content=feed, headers={**headers, **ICS}).json()
        assert (report["created"], report["rejected"]) == (5, [])
        after = {
            e["uid"]: {f: e[f] for f in fields} | {"title": e["title"]["fr"]}
            for e in everything(copy, headers)
        }
    assert after == before


def test_a_zone_known_only_by_its_definition_is_matched(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    report = _import(client, admin, "outlook-custom-zone.ics").json()
    assert (report["created"], report["rejected"]) == (1, [])
    (event,) = _by_title(client, editor).values()
    # "Customized Time Zone" has the rules of Central Europe: the default zone fits.
    assert (event["timezone"], event["start"]) == ("Europe/Paris", "2027-06-10T10:00:00+02:00")


def test_cli_imports_from_a_url_on_this_machine_only_when_allowed(database_url: str) -> None:
    import http.server
    import threading
    from functools import partial

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(DATA))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/thunderbird.ics"
        base = ["--database-url", database_url, "import"]
        refused = CliRunner().invoke(main, [*base, url])
        assert refused.exit_code == 1 and "loopback address: refused" in refused.output
        allowed = [*base, "--allow-private-addresses"]
        result = CliRunner().invoke(main, [*allowed, url])
        assert result.exit_code == 0, result.output
        assert "created 3" in result.stderr
        missing = CliRunner().invoke(main, [*allowed, url + "x"])
        assert missing.exit_code == 1 and "404" in missing.output
    finally:
        server.shutdown()
        server.server_close()


def test_a_series_written_in_utc_keeps_its_utc_time_across_the_clock_change(  # type: ignore[no-untyped-def]
    client, admin, editor
) -> None:
    """DTSTART:…Z with an RRULE repeats at the same UTC time (RFC 5545): read in the calendar's
    zone it would be an hour off after the clocks change. recurring-ical-events agrees."""
    from datetime import UTC, datetime

    import recurring_ical_events
    from icalendar import Calendar

    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//utc//EN\r\n"
        "BEGIN:VEVENT\r\nUID:utc-series@example.org\r\nDTSTAMP:20261201T000000Z\r\n"
        "SUMMARY:Réunion en ligne\r\nDTSTART:20270311T180000Z\r\nDTEND:20270311T190000Z\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=6\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    report = client.post("/api/import", content=data, headers={**admin, **ICS}).json()
    assert (report["created"], report["rejected"]) == (1, [])
    expected = [
        o["DTSTART"].dt.astimezone(UTC)
        for o in recurring_ical_events.of(Calendar.from_ical(data)).between(
            datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC)
        )
    ]
    found = client.get("/api/occurrences?from=2027-03-01&to=2027-05-01&limit=50").json()["items"]
    starts = [datetime.fromisoformat(o["start"]).astimezone(UTC) for o in found]
    assert starts == expected and len(starts) == 6
    assert {s.hour for s in starts} == {18}  # before and after 28 March
    # And through the feed and back, unchanged.
    [event] = [e for e in everything(client, editor) if e["uid"] == "utc-series@example.org"]
    assert event["timezone"] == "UTC"


def test_a_stream_of_several_calendars_is_read_whole(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    """RFC 5545 3.4: an iCalendar stream may hold several VCALENDAR objects (some exports
    concatenate one per event); text after the last one is still refused."""

    def calendar(uid: str, title: str) -> str:
        return (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//stream//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261201T000000Z\r\nSUMMARY:{title}\r\n"
            "DTSTART;TZID=Europe/Paris:20270105T190000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )

    stream = calendar("one@example.org", "Premier") + "\r\n" + calendar("two@example.org", "Second")
    report = client.post("/api/import", content=stream.encode(), headers={**admin, **ICS}).json()
    assert (report["created"], report["rejected"]) == (2, [])
    assert {"Premier", "Second"} <= set(_by_title(client, editor))
    cut = (calendar("three@example.org", "Troisième") + "SUMMARY:stray\r\n").encode()
    refused = client.post("/api/import", content=cut, headers={**admin, **ICS})
    assert refused.status_code in (400, 422) and "follows END:VCALENDAR" in refused.text
