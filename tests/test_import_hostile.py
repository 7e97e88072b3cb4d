"""Hostile iCalendar files: the faults an outside security test found in import, and fuzzing.

Each fault was a 500 from ``POST /api/import`` (and the reset keep-alive connection after it),
or a value stored that must not be. Now such an event is rejected with its reason (or, for a
harmless property, the property is ignored), nothing is half-written and the rest of the file
is imported. The fuzzing below feeds the reader files no calendar writes and checks that each
gives a refusal or a report, never an unhandled exception.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from calendar_service.ical_file import MAX_COMPONENTS, MAX_DEPTH
from calendar_service.ical_import import ImportFileError
from calendar_service.imports import read_calendar
from calendar_service.settings import Settings
from tests.conftest import make_settings
from tests.factories import everything

DATA = Path(__file__).parent / "data"
ICS = {"Content-Type": "text/calendar; charset=utf-8"}
GOOD = (
    "BEGIN:VEVENT\r\nUID:good@test\r\nSUMMARY:Le seul bon\r\nDTSTART:20270106T100000Z\r\n"
    "DTEND:20270106T120000Z\r\nEND:VEVENT\r\n"
)


def _calendar(*events: str, head: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Hostile//EN\r\n"
        + head
        + "".join(events)
        + "END:VCALENDAR\r\n"
    ).encode()


def _event(*lines: str, uid: str = "fuzz@test", start: str = "DTSTART:20270107T100000Z") -> str:
    body = "".join(line + "\r\n" for line in (f"UID:{uid}", "SUMMARY:Fuzz", start, *lines))
    return f"BEGIN:VEVENT\r\n{body}END:VEVENT\r\n"


def _post(client, admin, data: bytes, **params: str):  # type: ignore[no-untyped-def]
    return client.post("/api/import", content=data, headers={**admin, **ICS}, params=params)


def _uids(client, editor) -> set[str]:  # type: ignore[no-untyped-def]
    return {e["uid"] for e in everything(client, editor)}


@pytest.fixture
def pure_settings(tmp_path: Path) -> Settings:
    """Settings for reading files only: no database is touched."""
    return make_settings(f"sqlite:///{tmp_path / 'unused.db'}")


def _read(data: bytes, settings: Settings) -> list[str | None] | ImportFileError:
    """Each event's rejection reason (None when valid), or the refusal of the whole file."""
    try:
        items = read_calendar(data, settings)
    except ImportFileError as exc:
        return exc
    for item in items:
        assert (item.event is None) != (item.error is None), item
        assert item.error is None or 0 < len(item.error) < 1_000
        assert len(item.title) <= 300 and len(item.uid) <= 255
    return [item.error for item in items]


# --- the outside security test's findings: tests/data/security-report.ics ---------------------

FINDINGS = [
    pytest.param("malformed-dtstamp@test", None, id="malformed_dtstamp_gave_a_500"),
    pytest.param("malformed-last-modified@test", None, id="malformed_last_modified_gave_a_500"),
    pytest.param("malformed-sequence@test", "SEQUENCE", id="malformed_sequence_gave_a_500"),
    pytest.param("fractional-sequence@test", "SEQUENCE", id="non_integer_sequence_gave_a_500"),
    pytest.param("huge-sequence@test", "SEQUENCE", id="sequence_beyond_32_bits_gave_a_500"),
    pytest.param("negative-sequence@test", "SEQUENCE", id="negative_sequence_was_stored"),
    pytest.param("huge-duration@test", "DURATION is too long", id="huge_duration_gave_a_500"),
    pytest.param("year-9999@test", "between 1900 and 2200", id="year_9999_gave_a_500"),
    pytest.param("year-9999-day@test", "between 1900 and 2200", id="year_9999_day_gave_a_500"),
]


@pytest.mark.parametrize(("uid", "reason"), FINDINGS)
def test_security_report_fault_is_a_rejection_with_its_reason_not_a_500(  # type: ignore[no-untyped-def]
    client, admin, editor, uid: str, reason: str | None
) -> None:
    response = _post(client, admin, (DATA / "security-report.ics").read_bytes())
    assert response.status_code == 200, response.text
    rejected = {r["uid"]: r["reason"] for r in response.json()["rejected"]}
    stored = _uids(client, editor)
    if reason is None:  # a harmless property that cannot be read is ignored
        assert uid in stored and uid not in rejected
    else:
        assert reason in rejected[uid]
        assert uid not in stored


def test_security_report_file_imports_the_rest_and_writes_no_half_record(  # type: ignore[no-untyped-def]
    client, admin, editor
) -> None:
    report = _post(client, admin, (DATA / "security-report.ics").read_bytes()).json()
    imported = {"malformed-dtstamp@test", "malformed-last-modified@test", "still-imported@test"}
    # An UNTIL in 9999 is an open-ended series, kept within the stored horizon.
    imported.add("year-9999-until@test")
    assert report["created"] == len(imported)
    assert len(report["rejected"]) == 7
    assert _uids(client, editor) == imported
    occurrences = client.get("/api/occurrences?from=2027-01-01&to=2027-03-01&limit=500")
    assert occurrences.status_code == 200
    titles = [o["title"]["fr"] for o in occurrences.json()["items"]]
    assert titles.count("Le reste du fichier") == 1
    assert titles.count("Jusqu'en 9999") == 8  # every Thursday of the window
    rest = next(e for e in everything(client, editor) if e["uid"] == "still-imported@test")
    assert rest["sequence"] == 3


def test_security_report_file_with_strict_is_refused_whole(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, admin, (DATA / "security-report.ics").read_bytes(), strict="1")
    assert response.status_code == 422
    assert "huge-sequence@test" in {e["field"] for e in response.json()["errors"]}
    assert everything(client, editor) == []


def test_negative_sequence_does_not_update_a_stored_event(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    first = _calendar(_event("SEQUENCE:2", "DTEND:20270107T120000Z", uid="kept@test"))
    assert _post(client, admin, first).json()["created"] == 1
    negative = first.replace(b"SEQUENCE:2", b"SEQUENCE:-5").replace(b"Fuzz", b"Autre titre")
    report = _post(client, admin, negative).json()
    assert (report["updated"], len(report["rejected"])) == (0, 1)
    (event,) = everything(client, editor)
    assert (event["sequence"], event["title"]["fr"]) == (2, "Fuzz")


# --- fuzzing ----------------------------------------------------------------------------------

SAMPLES = sorted(p for p in DATA.glob("*.ics"))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_truncation_of_every_sample_is_read_or_refused(
    pure_settings: Settings, sample: Path
) -> None:
    data = sample.read_bytes()
    lines = [line for line in data.decode(errors="replace").splitlines() if len(line) >= 16]
    for end in range(0, len(data), 29):
        outcome = _read(data[:end], pure_settings)
        if isinstance(outcome, ImportFileError):
            message = str(outcome)
            assert "line" in message or "BEGIN:VCALENDAR" in message
            assert not [line for line in lines if line in message]  # never quotes the file


@pytest.mark.parametrize("seed", range(8))
def test_binary_junk_is_refused(pure_settings: Settings, seed: int) -> None:
    junk = random.Random(seed).randbytes(4_000)
    for data in (junk, b"BEGIN:VCALENDAR\r\n" + junk, _calendar(_event()) + junk):
        outcome = _read(data, pure_settings)
        assert isinstance(outcome, ImportFileError)
        assert "not an iCalendar file" in str(outcome)


@pytest.mark.parametrize("seed", range(8))
def test_printable_junk_inside_a_calendar_is_read_or_refused(
    pure_settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ:;=,"\\ -0123456789TZ/\r\n\t'
    for _ in range(30):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 400)))
        _read(_calendar(_event(junk), GOOD), pure_settings)
        _read(_calendar(_event(), head=junk + "\r\n"), pure_settings)


def test_deep_nesting_of_vevent_is_refused_with_its_line(pure_settings: Settings) -> None:
    depth = 10_000
    data = _calendar("BEGIN:VEVENT\r\nUID:x\r\n" * depth + "END:VEVENT\r\n" * depth)
    outcome = _read(data, pure_settings)
    assert isinstance(outcome, ImportFileError)
    assert f"more than {MAX_DEPTH} deep" in str(outcome)
    assert f"line {4 + 2 * (MAX_DEPTH - 1)}" in str(outcome)


def test_a_vevent_nested_within_the_limit_is_not_an_event_of_its_own(
    pure_settings: Settings,
) -> None:
    inner = _event(uid="inner@test").replace("\r\n", "\r\n", 1)
    outer = _event(uid="outer@test").replace("END:VEVENT", inner + "END:VEVENT")
    outcome = _read(_calendar(outer), pure_settings)
    assert outcome == [None]


def test_huge_lines_are_read_and_capped(pure_settings: Settings) -> None:
    long = "x" * 2_000_000
    folded = "\r\n ".join(long[i : i + 74] for i in range(0, 200_000, 74))
    data = _calendar(
        _event(f"DESCRIPTION:{long}", f"X-NOISE:{long}", uid="long-description@test"),
        _event(f"LOCATION:{folded}", uid="long-location@test"),
        _event(uid="u" * 100_000),
        _event(start=f"DTSTART;TZID={long}:20270107T100000", uid="long-tzid@test"),
        GOOD.replace("SUMMARY:Le seul bon", f"SUMMARY:{long}"),
    )
    outcome = _read(data, pure_settings)
    assert isinstance(outcome, list)
    description, location, uid, tzid, title = outcome
    assert description is not None and "description" in description
    assert location is None and title is None  # cut to the lengths the service keeps
    assert uid is not None and "uid" in uid
    assert tzid is not None and "cannot be read" in tzid


def test_thousands_of_events_are_read(pure_settings: Settings) -> None:
    events = [_event("DTEND:20270107T120000Z", uid=f"e{i}@test") for i in range(3_000)]
    assert _read(_calendar(*events), pure_settings) == [None] * 3_000


def test_more_components_than_the_limit_are_refused(pure_settings: Settings) -> None:
    outcome = _read(
        _calendar("BEGIN:X-NOTHING\r\nEND:X-NOTHING\r\n" * MAX_COMPONENTS), pure_settings
    )
    assert isinstance(outcome, ImportFileError)
    assert f"more than {MAX_COMPONENTS:,} components" in str(outcome)


BAD_VALUES = {
    "GEO:abc;def": "GEO",
    "GEO:1;2;3": "GEO",
    "GEO:nan;inf": "GEO",
    "GEO:91;181": "location.lat",
    "GEO;X=1:": "GEO",
    "RRULE:FREQ=;;;==": "recurrence.rrule",
    "RRULE:FREQ=SOMETIMES": "recurrence.rrule",
    "RRULE:FREQ=SECONDLY": "recurrence.rrule",
    "RRULE:FREQ=DAILY;COUNT=-1": "recurrence.rrule",
    "RRULE:FREQ=DAILY;INTERVAL=0": "recurrence.rrule",
    "RRULE:FREQ=DAILY;BYHOUR=99": "recurrence.rrule",
    "RRULE:FREQ=DAILY;UNTIL=notadate": "recurrence.rrule",
    "RRULE:FREQ=DAILY;BYDAY=" + "MO," * 1_000 + "TU": "recurrence.rrule",
    "RRULE:FREQ=DAILY\r\nRRULE:FREQ=WEEKLY": "RRULE is given more than once",
    "RDATE:notadate": "RDATE",
    "RDATE:20270110T100000Z,xx": "RDATE",
    "RDATE;VALUE=PERIOD:x/y": "RDATE",
    "RDATE;VALUE=DATE:2027": "RDATE",
    "RDATE;TZID=Mars/Olympus:20270110T100000": "Mars/Olympus",
    "RDATE:00010101T000000Z": "RDATE: the year",
    "EXDATE:xx": "EXDATE",
    "EXDATE:99990101T000000Z": "EXDATE: the year",
    "EXDATE;TZID=Mars/Olympus:20270110T100000": "Mars/Olympus",
    "DTEND:zzz": "DTEND",
    "DTEND;TZID=Mars/Olympus:20270107T120000": "Mars/Olympus",
    "DURATION:P9999999999W": "DURATION",
    "DURATION:soon": "DURATION",
    "DURATION:-P1D": "end",
    "RECURRENCE-ID:xx": "RECURRENCE-ID",
    "SEQUENCE:1\r\nSEQUENCE:2": "SEQUENCE is given more than once",
    "this is not a content line": "not NAME:VALUE",
}


@pytest.mark.parametrize(("line", "reason"), BAD_VALUES.items(), ids=[k[:30] for k in BAD_VALUES])
def test_a_bad_value_rejects_its_event_with_a_reason(
    pure_settings: Settings, line: str, reason: str
) -> None:
    outcome = _read(_calendar(_event(line), GOOD), pure_settings)
    assert isinstance(outcome, list) and outcome[-1] is None
    assert outcome[0] is not None and reason in outcome[0]


BAD_PARAMETERS = [
    "DTSTART;TZID=:20270107T100000",
    'DTSTART;TZID="unclosed:20270107T100000',
    "DTSTART;VALUE=FOO:20270107T100000",
    "DTSTART;TZID=Europe/Paris;TZID=America/Cayenne:20270107T100000",
    "DTSTART;VALUE=DATE:20270107T100000",
    "DTSTART;VALUE=PERIOD:20270107T100000Z/PT1H",
    "DTSTART;VALUE=TIME:100000",
    "DTSTART;=x:20270107T100000",
    "DTSTART;" + "X-A=b;" * 2_000 + ":20270107T100000",
]


@pytest.mark.parametrize("start", BAD_PARAMETERS, ids=[p[:30] for p in BAD_PARAMETERS])
def test_bad_parameters_are_read_or_rejected(pure_settings: Settings, start: str) -> None:
    outcome = _read(
        _calendar(
            _event("SUMMARY;LANGUAGE=:x", 'ORGANIZER;CN="a:mailto:a@example.org', start=start),
            GOOD,
        ),
        pure_settings,
    )
    assert isinstance(outcome, list) and outcome[-1] is None


def test_an_rdate_period_counts_by_its_start(pure_settings: Settings) -> None:
    data = _calendar(
        _event(
            "DTEND:20270107T120000Z",
            "RDATE;VALUE=PERIOD:20270110T100000Z/PT3H,20270111T100000Z/20270111T110000Z",
        )
    )
    (item,) = read_calendar(data, pure_settings)
    assert item.event is not None and item.event.recurrence is not None
    assert [str(d) for d in item.event.recurrence.rdates] == [
        "2027-01-10 11:00:00",
        "2027-01-11 11:00:00",
    ]


def test_file_refusals_never_quote_the_file(client, admin) -> None:  # type: ignore[no-untyped-def]
    secret = "The quick secret of the server"
    for data in (
        f"<html><body>{secret}</body></html>".encode(),
        f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nX:{secret}\r\n".encode(),
        f"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n{secret}\r\n".encode(),
        f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:{secret.replace(' ', '')}\r\n".encode(),
    ):
        response = _post(client, admin, data)
        assert response.status_code == 400
        assert "not an iCalendar file" in response.json()["detail"]
        assert "secret" not in response.text.lower()


def test_a_file_of_every_fault_gives_a_report_never_a_5xx(client, admin, editor) -> None:  # type: ignore[no-untyped-def]
    events = [_event(line, uid=f"bad-{i}@test") for i, line in enumerate(BAD_VALUES)]
    events += [_event(start=start, uid=f"param-{i}@test") for i, start in enumerate(BAD_PARAMETERS)]
    response = _post(client, admin, _calendar(*events, GOOD))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] >= 1
    assert len(report["rejected"]) >= len(BAD_VALUES)
    assert "good@test" in _uids(client, editor)
