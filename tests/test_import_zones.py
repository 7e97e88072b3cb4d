"""Time zones on import: an import maps what it can, such as Windows names, and rejects the
event otherwise; every zone stored is one of ``zones.accepted_zones()``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from calendar_service.ical_zones import MAX_CUSTOM_ZONES, MAX_OBSERVANCES
from calendar_service.imports import read_calendar
from calendar_service.settings import Settings
from calendar_service.zones import accepted_zones
from tests.conftest import make_settings
from tests.factories import everything

ICS = {"Content-Type": "text/calendar; charset=utf-8"}
# The rules of Central Europe, of the eastern United States, and of no place at all.
EUROPE = (
    ("STANDARD", "+0200", "+0100", "16010101T030000", "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"),
    ("DAYLIGHT", "+0100", "+0200", "16010101T020000", "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"),
)
US_EAST = (
    ("STANDARD", "-0400", "-0500", "16010101T020000", "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11"),
    ("DAYLIGHT", "-0500", "-0400", "16010101T020000", "FREQ=YEARLY;BYDAY=2SU;BYMONTH=3"),
)
NOWHERE = (("STANDARD", "+0123", "+0123", "16010101T000000", None),)


def _vtimezone(tzid: str, observances: tuple[tuple[str, str, str, str, str | None], ...]) -> str:
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    for kind, before, after, start, rule in observances:
        lines += [f"BEGIN:{kind}", f"DTSTART:{start}", f"TZOFFSETFROM:{before}"]
        lines += [f"TZOFFSETTO:{after}", *([f"RRULE:{rule}"] if rule else []), f"END:{kind}"]
    return "\r\n".join([*lines, "END:VTIMEZONE"]) + "\r\n"


def _event(uid: str, start: str, *more: str) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{uid}", start, *more, "END:VEVENT"]
    return "\r\n".join(lines) + "\r\n"


def _calendar(*parts: str, head: str = "") -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Zones//EN\r\n" + head).encode() + (
        "".join(parts) + "END:VCALENDAR\r\n"
    ).encode()


def _import(client, admin, data: bytes) -> dict:  # type: ignore[no-untyped-def]
    response = client.post("/api/import", content=data, headers={**admin, **ICS})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _stored(client, editor) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {e["uid"]: e for e in everything(client, editor)}


@pytest.fixture
def pure_settings(tmp_path: Path) -> Settings:
    return make_settings(f"sqlite:///{tmp_path / 'unused.db'}")


MAPPED = {
    "Europe/Paris": "Europe/Paris",
    "Romance Standard Time": "Europe/Paris",
    "Eastern Standard Time": "America/New_York",
    "/mozilla.org/20050126_1/America/Cayenne": "America/Cayenne",
    "/freeassociation.sourceforge.net/Tzfile/Indian/Mayotte": "Indian/Mayotte",
    "US/Eastern": "America/New_York",
    "Europe/Kiev": "Europe/Kyiv",
    "Asia/Calcutta": "Asia/Kolkata",
    "posix/Europe/Paris": "Europe/Paris",
    "europe/paris": "Europe/Paris",
    "Etc/UTC": "Etc/UTC",
}


def test_every_zone_calendars_write_is_mapped_to_an_accepted_zone(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    events = [
        _event(f"mapped-{i}@test", f'DTSTART;TZID="{tzid}":20270610T100000')
        for i, tzid in enumerate(MAPPED)
    ]
    report = _import(client, admin, _calendar(*events))
    assert (report["created"], report["rejected"]) == (len(MAPPED), [])
    stored = _stored(client, editor)
    for i, expected in enumerate(MAPPED.values()):
        assert stored[f"mapped-{i}@test"]["timezone"] == expected
    assert {e["timezone"] for e in stored.values()} <= accepted_zones()
    # The wall time written is kept, in the zone the name maps to.
    assert stored["mapped-2@test"]["start"] == "2027-06-10T10:00:00-04:00"


UNSHARED = ["Mars/Olympus", "EST5EDT", "Etc/GMT+5", "Factory", "posixrules", "Foo"]


def test_a_zone_that_is_not_shared_rejects_its_event_with_the_reason(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    events = [
        _event(f"unshared-{i}@test", f"DTSTART;TZID={tzid}:20270610T100000")
        for i, tzid in enumerate(UNSHARED)
    ]
    report = _import(
        client, admin, _calendar(*events, _event("ok@test", "DTSTART:20270610T100000Z"))
    )
    assert report["created"] == 1
    reasons = {r["uid"]: r["reason"] for r in report["rejected"]}
    for i, tzid in enumerate(UNSHARED):
        assert reasons[f"unshared-{i}@test"] == f"time zone {tzid!r} is not one calendars share"
    assert list(_stored(client, editor)) == ["ok@test"]


def test_google_calendar_zone_applies_to_utc_times(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    data = _calendar(
        _event("utc@test", "DTSTART:20270610T120000Z", "DTEND:20270610T140000Z"),
        _event("day@test", "DTSTART;VALUE=DATE:20270611"),
        head="X-WR-TIMEZONE:America/Cayenne\r\n",
    )
    _import(client, admin, data)
    stored = _stored(client, editor)
    assert (stored["utc@test"]["timezone"], stored["utc@test"]["start"]) == (
        "America/Cayenne",
        "2027-06-10T09:00:00-03:00",
    )
    assert stored["day@test"]["timezone"] == "America/Cayenne"


def test_google_calendar_zone_by_an_alias_is_mapped(pure_settings: Settings) -> None:
    data = _calendar(
        _event("utc@test", "DTSTART:20270610T120000Z"), head="X-WR-TIMEZONE:US/Pacific\r\n"
    )
    (item,) = read_calendar(data, pure_settings)
    assert item.event is not None and item.event.timezone == "America/Los_Angeles"


def test_google_calendar_zone_that_is_not_shared_rejects_the_events_without_tzid(
    pure_settings: Settings,
) -> None:
    data = _calendar(
        _event("utc@test", "DTSTART:20270610T120000Z"),
        _event("named@test", "DTSTART;TZID=Europe/Paris:20270610T120000"),
        head="X-WR-TIMEZONE:Mars/Olympus\r\n",
    )
    utc, named = read_calendar(data, pure_settings)
    assert utc.error == (
        "the calendar's zone (X-WR-TIMEZONE): time zone 'Mars/Olympus' is not one calendars share"
    )
    assert named.event is not None and named.event.timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("observances", "preferred", "expected"),
    [
        (EUROPE, "", "Europe/Paris"),  # the service default, among the zones that fit
        (US_EAST, "", "America/New_York"),  # the zone Windows names stand for
        (US_EAST, "X-WR-TIMEZONE:America/Detroit\r\n", "America/Detroit"),  # the calendar's
        ((("STANDARD", "+0530", "+0530", "16010101T000000", None),), "", "Asia/Kolkata"),
        ((("STANDARD", "+0000", "+0000", "16010101T000000", None),), "", "UTC"),
    ],
    ids=["europe", "us-east", "us-east-calendar-zone", "india", "utc"],
)
def test_a_custom_zone_is_matched_by_its_rules_to_an_accepted_zone(
    pure_settings: Settings, observances, preferred: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    data = _calendar(
        _vtimezone("Customized Time Zone", observances),
        _event("custom@test", 'DTSTART;TZID="Customized Time Zone":20270610T100000'),
        head=preferred,
    )
    (item,) = read_calendar(data, pure_settings)
    assert item.event is not None, item.error
    assert item.event.timezone == expected
    assert str(item.event.start) == "2027-06-10 10:00:00"


def test_a_custom_zone_that_matches_no_accepted_zone_is_rejected(pure_settings: Settings) -> None:
    data = _calendar(
        _vtimezone("Somewhere", NOWHERE),
        _event("nowhere@test", "DTSTART;TZID=Somewhere:20270610T100000"),
    )
    (item,) = read_calendar(data, pure_settings)
    assert item.error == (
        "time zone 'Somewhere' is not one calendars share: its rules match none of them"
    )


def test_a_known_name_is_trusted_over_a_definition_that_lies(pure_settings: Settings) -> None:
    data = _calendar(
        _vtimezone("Europe/Paris", NOWHERE),
        _event("paris@test", "DTSTART;TZID=Europe/Paris:20270610T100000"),
    )
    (item,) = read_calendar(data, pure_settings)
    assert item.event is not None and item.event.timezone == "Europe/Paris"


def test_an_end_in_another_zone_is_converted_to_the_start_zone(pure_settings: Settings) -> None:
    data = _calendar(
        _event(
            "two-zones@test",
            "DTSTART;TZID=Europe/Paris:20270610T100000",
            "DTEND;TZID=Europe/London:20270610T100000",
            "EXDATE:20270617T080000Z",
            "RRULE:FREQ=WEEKLY;COUNT=3",
        )
    )
    (item,) = read_calendar(data, pure_settings)
    assert item.event is not None and item.event.recurrence is not None
    assert str(item.event.end) == "2027-06-10 11:00:00"
    assert [str(d) for d in item.event.recurrence.exdates] == ["2027-06-17 10:00:00"]


def test_only_so_many_custom_zones_are_read_per_file(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    count = MAX_CUSTOM_ZONES + 1
    zones = [_vtimezone(f"Custom {i}", EUROPE) for i in range(count)]
    events = [
        _event(f"e{i}-{n}@test", f'DTSTART;TZID="Custom {i}":2027061{n}T100000')
        for i in range(count)
        for n in range(3)  # each zone used three times: read once
    ]
    report = _import(client, admin, _calendar(*zones, *events))
    assert report["created"] == 3 * MAX_CUSTOM_ZONES
    assert {r["uid"] for r in report["rejected"]} == {
        f"e{MAX_CUSTOM_ZONES}-{n}@test" for n in range(3)
    }
    assert f"more than {MAX_CUSTOM_ZONES} time zones of its own" in report["rejected"][0]["reason"]
    assert {e["timezone"] for e in everything(client, editor)} == {"Europe/Paris"}


HOSTILE_RULES = {
    "not-yearly": "FREQ=SECONDLY",
    "never": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "sixth-sunday": "FREQ=YEARLY;BYMONTH=3;BYDAY=6SU",
    "hourly-parts": "FREQ=YEARLY;BYMONTH=3;BYHOUR=1,2,3",
    "no-month": "FREQ=YEARLY;BYDAY=SU",
    "zero-interval": "FREQ=YEARLY;BYMONTH=3;INTERVAL=0",
}


@pytest.mark.parametrize("rule", HOSTILE_RULES.values(), ids=list(HOSTILE_RULES))
def test_a_custom_zone_with_a_rule_no_zone_has_is_rejected(
    pure_settings: Settings, rule: str
) -> None:
    zone = (("STANDARD", "+0100", "+0100", "16010101T000000", rule),)
    data = _calendar(
        _vtimezone("Hostile", zone), _event("hostile@test", "DTSTART;TZID=Hostile:20270610T100000")
    )
    (item,) = read_calendar(data, pure_settings)
    assert item.error is not None and "time zone 'Hostile'" in item.error


def test_custom_zones_cost_is_bounded_by_the_limits(pure_settings: Settings) -> None:
    # As many custom zones as are read, each with as many yearly rules as are allowed, from 1601:
    # what the limits let through is read quickly.
    observances = tuple(
        (
            "STANDARD" if i % 2 else "DAYLIGHT",
            "+0100",
            "+0100",
            "16010101T000000",
            f"FREQ=YEARLY;BYMONTH={i % 12 + 1};BYMONTHDAY=1,2,3,4,5,6,7;BYDAY=SU",
        )
        for i in range(MAX_OBSERVANCES)
    )
    zones = [_vtimezone(f"Heavy {i}", observances) for i in range(MAX_CUSTOM_ZONES)]
    events = [
        _event(f"heavy-{i}@test", f'DTSTART;TZID="Heavy {i}":20270610T100000')
        for i in range(MAX_CUSTOM_ZONES)
    ]
    began = time.monotonic()
    items = read_calendar(_calendar(*zones, *events), pure_settings)
    assert time.monotonic() - began < 5
    assert {i.event.timezone for i in items if i.event is not None} <= accepted_zones()
    too_many = _vtimezone("Too many", observances + observances[:1])
    (item,) = read_calendar(
        _calendar(too_many, _event("x@test", 'DTSTART;TZID="Too many":20270610T100000')),
        pure_settings,
    )
    assert item.error == f"time zone 'Too many' has more than {MAX_OBSERVANCES} rules"
