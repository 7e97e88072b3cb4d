"""VTIMEZONE components, read back by independent readers, agree with the IANA database.

Two readers: ``icalendar``'s ``Timezone.to_tz`` (dateutil's VTIMEZONE engine, as vobject uses
it) converting UTC instants to local time, and Mozilla's ical.js converting local times to
UTC, which is what it does with every ``DTSTART;TZID=``. (ical.js's own UTC -> local
conversion reads the UTC time as if it were local, a known limit of ical.js, so it cannot be
asked that way.) The instants: every 6 hours of 2015-2030, and around every change of offset.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from calendar_service.render.vtimezone import vtimezone
from tests.icalcheck import IN_CI, JS_DIR, structural_problems, unfolded_lines

ZONES = [
    "Europe/Paris",
    "Indian/Mayotte",
    "Indian/Reunion",
    "America/Cayenne",
    "America/Martinique",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "America/Sao_Paulo",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "America/New_York",
]
# Those that change their clocks in the range (Sao Paulo until 2019).
CHANGING = {
    "Europe/Paris",
    "America/Sao_Paulo",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "America/New_York",
}
FIRST, LAST = 2015, 2030
STEP = timedelta(hours=6)

# ical.js: the UTC instant (epoch seconds) of each local time in the given VTIMEZONE.
TO_UTC_JS = """
import ICAL from "ical.js";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { vtimezone, walls } = JSON.parse(input);
const zone = new ICAL.Timezone(new ICAL.Component(ICAL.parse(vtimezone)));
const instants = walls.map(([year, month, day, hour, minute, second]) =>
  new ICAL.Time({ year, month, day, hour, minute, second, isDate: false }, zone).toUnixTime());
process.stdout.write(JSON.stringify(instants));
"""


def offset(tz: object, moment: datetime) -> int:
    value = moment.astimezone(tz).utcoffset()  # type: ignore[arg-type]
    assert value is not None
    return int(value.total_seconds())


def transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """Each change of offset, to the second, found by bisection, with its size in seconds."""
    found = []
    moment = start
    while moment < end:
        following = moment + STEP
        before = offset(tz, moment)
        if offset(tz, following) != before:
            lo, hi = moment, following
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(tz, mid) == before else (lo, mid)
            found.append((hi.replace(microsecond=0), offset(tz, following) - before))
        moment = following
    return found


def instants(name: str, first_year: int, last_year: int) -> list[datetime]:
    """Every 6 hours, a minute either side of each change, and either side of its overlap."""
    tz = ZoneInfo(name)
    # From 2 January: the VTIMEZONE begins at 1 January 00:00 local time.
    start = datetime(first_year, 1, 2, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    moments = []
    moment = start
    while moment < end:
        moments.append(moment)
        moment += STEP
    changes = transitions(tz, start, end)
    if first_year == FIRST:
        assert bool(changes) == (name in CHANGING), f"{name}: {changes[:3]}"
    minute = timedelta(minutes=1)
    for change, size in changes:
        wide = timedelta(seconds=abs(size)) + minute  # past the repeated or skipped hour
        moments += [change - minute, change, change + minute, change - wide, change + wide]
    return moments


def mismatches(moments: list[datetime], expected: list[int], found: list[int]) -> list[object]:
    return [
        (f"{m:%Y-%m-%dT%H:%M:%SZ}", e, f)
        for m, e, f in zip(moments, expected, found, strict=True)
        if e != f
    ][:5]


@pytest.fixture(scope="module", params=ZONES)
def zone_case(request: pytest.FixtureRequest) -> tuple[str, str, list[datetime]]:
    name = request.param
    return name, vtimezone(name, FIRST, LAST), instants(name, FIRST, LAST)


def test_written_as_every_client_reads_it(zone_case) -> None:
    name, text, _ = zone_case
    lines = unfolded_lines(text.encode())
    assert lines[:2] == ["BEGIN:VTIMEZONE", f"TZID:{name}"]
    assert lines[-1] == "END:VTIMEZONE"
    assert not any(line.startswith("RDATE") for line in lines)
    calendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + text
    assert structural_problems((calendar + "END:VCALENDAR\r\n").encode()) == []


def icalendar_offsets(text: str, moments: list[datetime]) -> list[int]:
    # lookup_tzid=False: build the zone from our VTIMEZONE, not from the TZID's name.
    tz = icalendar.Timezone.from_ical(text).to_tz(lookup_tzid=False)
    return [offset(tz, m) for m in moments]


def test_icalendar_reads_the_offsets_of_zoneinfo(zone_case, request) -> None:
    name, text, moments = zone_case
    expected = [offset(ZoneInfo(name), m) for m in moments]
    found = icalendar_offsets(text, moments)
    assert found == expected, (
        f"{name}: (UTC, zoneinfo, icalendar) {mismatches(moments, expected, found)}"
    )


@pytest.mark.parametrize("name", ZONES)
def test_the_last_rules_keep_going_past_the_range(name: str, request) -> None:
    moments = instants(name, LAST + 1, LAST + 6)
    expected = [offset(ZoneInfo(name), m) for m in moments]
    found = icalendar_offsets(vtimezone(name, FIRST, LAST), moments)
    assert found == expected, (
        f"{name}: (UTC, zoneinfo, icalendar) {mismatches(moments, expected, found)}"
    )


def test_icaljs_reads_local_times_as_zoneinfo_does(zone_case) -> None:
    name, text, moments = zone_case
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "ical.js").is_dir():
        message = "node or tests/js/node_modules missing: ical.js not checked"
        if IN_CI:
            pytest.fail(message + " (CI=true: it must run)")
        pytest.skip(message)
    tz = ZoneInfo(name)
    walls = [m.astimezone(tz).replace(tzinfo=None) for m in moments]
    done = subprocess.run(
        [node, "--input-type=module", "-e", TO_UTC_JS],
        input=json.dumps(
            {
                "vtimezone": text,
                "walls": [[w.year, w.month, w.day, w.hour, w.minute, w.second] for w in walls],
            }
        ).encode(),
        capture_output=True,
        cwd=JS_DIR,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    found = json.loads(done.stdout)
    wrong = []
    for moment, wall, seconds in zip(moments, walls, found, strict=True):
        # A local time of the repeated hour has two readings; ical.js may take either.
        readings = {int(wall.replace(tzinfo=tz, fold=f).timestamp()) for f in (0, 1)}
        if seconds not in readings:
            wrong.append((f"{wall:%Y-%m-%dT%H:%M:%S}", f"{moment:%H:%M:%SZ}", seconds))
    assert wrong == [], f"{name}: (local, zoneinfo UTC, ical.js epoch) {wrong[:5]}"
