"""The time zones of an imported file: each TZID ends on a zone the service accepts, or nowhere.

Calendars name zones their own way: IANA names and their old aliases (``US/Eastern``,
``Europe/Kiev``), Windows names from Outlook (``Romance Standard Time``), prefixed names from
old Thunderbird (``/mozilla.org/20050126_1/Europe/Paris``), and Outlook's "Customized Time
Zone", known only by the VTIMEZONE the file carries. A name is mapped when a table knows it; a
zone known only by its definition is matched, by its UTC offsets week by week through two years,
against the accepted zones (``zones.accepted_zones``) and nothing else. Anything else rejects
the events that use it. ``FileZones`` gives each value of a file its zone and its wall time.

The work is bounded by the input: a file's answers are kept per TZID, at most
``MAX_CUSTOM_ZONES`` definitions are read per file, each of at most ``MAX_OBSERVANCES`` rules,
and only the yearly rules time zones are made of, expanded over a few years, are read.
"""

from __future__ import annotations

import functools
import zoneinfo
from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from dateutil.rrule import rrulestr
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calendar_service.ical_file import Block, Rejected
from calendar_service.zones import accepted_equivalent, accepted_zones

MAX_CUSTOM_ZONES = 20
MAX_OBSERVANCES = 50
# Onsets one rule may produce up to the end of the sample years: a real one makes one a year.
MAX_ONSETS = 1_000
MAX_NAME = 200

# Every week of two years, at noon UTC: enough to tell zones and their DST rules apart.
_SAMPLES = tuple(datetime(2026, 1, 1, 12) + timedelta(weeks=i) for i in range(105))
_FIRST_YEAR = _SAMPLES[0].year - 1  # the onset in force at the first sample may be a year older
_END = _SAMPLES[-1] + timedelta(days=2)
_RULE_PARTS = frozenset({"FREQ", "INTERVAL", "UNTIL", "COUNT", "BYMONTH", "BYDAY", "BYMONTHDAY"})
_RULE_PARTS_IGNORED = frozenset({"WKST"})
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def shown(name: str) -> str:
    """A zone name as quoted in a reason: short enough to read."""
    return repr(name if len(name) <= 64 else name[:61] + "...")


def zone_by_name(tzid: str) -> str | None:
    """The accepted zone a TZID names: an accepted name or alias, a Windows name, or an IANA
    name behind a vendor prefix; ``None`` when no table knows it."""
    name = tzid.strip().strip('"').strip()
    if not name or len(name) > MAX_NAME:
        return None
    found = accepted_equivalent(name)
    if found is None and name in WINDOWS_TO_OLSON:
        found = accepted_equivalent(WINDOWS_TO_OLSON[name])
    if found is None and "/" in name:
        # "/mozilla.org/20050126_1/Europe/Paris", "/freeassociation.sourceforge.net/Tzfile/...":
        # the longest tail that is a zone name (of three parts at most, as zone names are).
        parts = name.strip("/").split("/")
        for start in range(max(1, len(parts) - 3), len(parts)):
            found = accepted_equivalent("/".join(parts[start:]))
            if found is not None:
                break
    return found


def _offset_seconds(moment: datetime, tz: zoneinfo.ZoneInfo) -> int:
    delta = moment.replace(tzinfo=UTC).astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


# Where several zones keep the same time, the one most people know names it; then a zone a
# Windows name stands for; then the first by name.
_USUAL = (
    "Europe/Paris", "Europe/London", "Europe/Athens", "Europe/Moscow", "Africa/Lagos",
    "Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata",
    "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane",
    "Australia/Sydney", "Pacific/Auckland", "Pacific/Honolulu", "America/Anchorage",
    "America/Los_Angeles", "America/Phoenix", "America/Denver", "America/Chicago",
    "America/Mexico_City", "America/Bogota", "America/New_York", "America/Halifax",
    "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
)  # fmt: skip


@functools.cache
def _zones_by_offsets() -> dict[tuple[int, ...], list[str]]:
    """The accepted zones grouped by their offsets at the samples, the best known first."""
    principal = {accepted_equivalent(name) for name in WINDOWS_TO_OLSON.values()}

    def rank(name: str) -> tuple[int, bool, str]:
        usual = _USUAL.index(name) if name in _USUAL else len(_USUAL)
        return usual, name not in principal, name

    table: dict[tuple[int, ...], list[str]] = {}
    for name in sorted(accepted_zones(), key=rank):
        tz = zoneinfo.ZoneInfo(name)
        table.setdefault(tuple(_offset_seconds(m, tz) for m in _SAMPLES), []).append(name)
    return table


def _naive(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    raise TypeError("not a date")


def _onsets(observance: Any, name: str) -> Iterable[datetime]:
    """The local times at which an observance begins, up to the end of the sample years."""
    start = _naive(observance["DTSTART"].dt)
    rule = observance.get("RRULE")
    if rule is None:
        rdates = observance.get("RDATE")
        values = [
            _naive(item.dt[0] if isinstance(item.dt, tuple) else item.dt)
            for prop in (rdates if isinstance(rdates, list) else [rdates] if rdates else [])
            for item in prop.dts
        ]
        if len(values) > MAX_ONSETS:
            raise Rejected(f"time zone {shown(name)} has more than {MAX_ONSETS:,} changes")
        return [start, *values]
    if isinstance(rule, list) or rule.get("FREQ") != ["YEARLY"]:
        raise Rejected(f"time zone {shown(name)} changes by a rule that is not yearly")
    if not set(rule) <= _RULE_PARTS | _RULE_PARTS_IGNORED:
        raise Rejected(f"time zone {shown(name)} has a rule this service does not read")
    interval = int(rule.get("INTERVAL", [1])[0])
    months = [int(m) for m in rule.get("BYMONTH", [])]
    ordinals = [int(day[:-2] or 0) for day in rule.get("BYDAY", [])]
    days = [abs(int(d)) for d in rule.get("BYMONTHDAY", [])]
    # Rules that can never happen would make dateutil search year after year up to 9999.
    if (
        interval < 1
        or not months
        or not all(1 <= m <= 12 for m in months)
        or not all(-5 <= n <= 5 for n in ordinals)
        or (days and not any(1 <= d <= max(_MONTH_DAYS[m - 1] for m in months) for d in days))
    ):
        raise Rejected(f"time zone {shown(name)} has a rule this service does not read")
    if "COUNT" not in rule and start.year < _FIRST_YEAR:
        # A yearly rule without COUNT gives the same onsets in a year whatever year it began,
        # so start it just before the samples rather than expand it from 1601.
        years = (_FIRST_YEAR - start.year) // interval * interval
        start = start.replace(year=start.year + years)
    text = rule.to_ical().decode()
    # ignoretz: Outlook writes UNTIL in UTC against a local DTSTART, which dateutil refuses;
    # a few hours' error in UNTIL does not matter to the offsets at the samples.
    recurrence = rrulestr(text, dtstart=start, ignoretz=True)
    onsets = []
    for onset in recurrence:
        if not isinstance(onset, datetime) or onset > _END:
            break
        onsets.append(onset)
        if len(onsets) > MAX_ONSETS:
            raise Rejected(f"time zone {shown(name)} has more than {MAX_ONSETS:,} changes")
    return onsets


def _offsets(block: Block, name: str) -> tuple[int, ...]:
    """The UTC offsets, in seconds, a VTIMEZONE gives at the samples."""
    observances = [c for c in block.children if c.name in ("STANDARD", "DAYLIGHT")]
    if not observances:
        raise Rejected(f"time zone {shown(name)} has no STANDARD or DAYLIGHT rule")
    if len(observances) > MAX_OBSERVANCES:
        raise Rejected(f"time zone {shown(name)} has more than {MAX_OBSERVANCES} rules")
    changes: list[tuple[datetime, int]] = []
    for observance in observances:
        # Each observance alone, so that icalendar reads a small text and its faults are its own.
        component: Any = icalendar.Component.from_ical(observance.text(depth=0))
        before = component["TZOFFSETFROM"].td
        after = int(component["TZOFFSETTO"].td.total_seconds())
        for onset in _onsets(component, name):
            changes.append((onset - before, after))
    changes.sort()
    moments = [moment for moment, _ in changes]
    offsets = []
    for sample in _SAMPLES:
        index = bisect_right(moments, sample)
        if index == 0:
            raise Rejected(f"time zone {shown(name)} is not defined for today's dates")
        offsets.append(changes[index - 1][1])
    return tuple(offsets)


class ZoneMapper:
    """One file's TZIDs mapped to accepted zones; each answer (or refusal) is worked out once."""

    def __init__(self, definitions: dict[str, Block], *, preferred: tuple[str, ...]) -> None:
        """``definitions``: the file's VTIMEZONEs by TZID; ``preferred``: the zones to choose
        first when a definition behaves like several (the calendar's, the service default)."""
        self._definitions = definitions
        self.preferred = preferred
        self._answers: dict[str, str | Rejected] = {}
        self._read = 0

    def zone(self, tzid: str) -> str:
        """The accepted zone for ``tzid``; ``Rejected`` with the reason when there is none."""
        answer = self._answers.get(tzid)
        if answer is None:
            try:
                answer = self._find(tzid)
            except Rejected as exc:
                answer = exc
            self._answers[tzid] = answer
        if isinstance(answer, Rejected):
            raise answer
        return answer

    def _find(self, tzid: str) -> str:
        found = zone_by_name(tzid)
        if found is not None:
            return found
        name = tzid.strip().strip('"').strip()
        definition = self._definitions.get(name)
        if definition is None:
            raise Rejected(f"time zone {shown(name)} is not one calendars share")
        self._read += 1
        if self._read > MAX_CUSTOM_ZONES:
            raise Rejected(
                f"time zone {shown(name)}: the file defines more than {MAX_CUSTOM_ZONES} time "
                "zones of its own, and only that many are read"
            )
        try:
            offsets = _offsets(definition, name)
        except Rejected:
            raise
        except Exception:  # any fault in a definition written by hand: its events are rejected
            raise Rejected(
                f"the definition of time zone {shown(name)} (line {definition.line}) cannot be read"
            ) from None
        candidates = _zones_by_offsets().get(offsets)
        if not candidates:
            raise Rejected(
                f"time zone {shown(name)} is not one calendars share: its rules match none of them"
            )
        return next((z for z in (*self.preferred, "UTC") if z in candidates), candidates[0])


class FileZones:
    """The zones of one file: its TZIDs through a ``ZoneMapper``, and the calendar's own zone
    (X-WR-TIMEZONE, else the service default) for times without a TZID."""

    def __init__(self, calendar: Block, default: str) -> None:
        """``calendar``: the file's VCALENDAR (``ical_file.split_calendar``)."""
        definitions: dict[str, Block] = {}
        for block in calendar.children:
            tzid = block.value("TZID") if block.name == "VTIMEZONE" else None
            if tzid:
                definitions.setdefault(tzid.strip(), block)
        self.mapper = ZoneMapper(definitions, preferred=(default,))
        self.calendar_zone: str | Rejected = default
        wr_timezone = (calendar.value("X-WR-TIMEZONE") or "").strip()
        if wr_timezone:
            try:
                self.calendar_zone = self.mapper.zone(wr_timezone)
            except Rejected as exc:
                self.calendar_zone = Rejected(f"the calendar's zone (X-WR-TIMEZONE): {exc}")
            else:
                self.mapper.preferred = (self.calendar_zone, default)

    def of(self, tzid: str | None) -> str:
        """The zone of a value with this TZID parameter (or none); ``Rejected`` if none fits."""
        if tzid:
            return self.mapper.zone(tzid)
        if isinstance(self.calendar_zone, Rejected):
            raise self.calendar_zone
        return self.calendar_zone

    def local(self, value: date | datetime, tzid: str | None, zone_name: str) -> date | datetime:
        """A DTSTART-like value as a naive wall time (or a date) in ``zone_name``.

        The wall time written beside a TZID is read in the zone that TZID maps to (not in the
        VTIMEZONE the file defines: the name is what is trusted); a UTC time is converted; a
        floating time stands as written.
        """
        if not isinstance(value, datetime):
            return value
        if tzid:
            source = self.of(tzid)
            if source == zone_name:
                return value.replace(tzinfo=None)
            value = value.replace(tzinfo=zoneinfo.ZoneInfo(source))
        elif value.tzinfo is None:
            return value
        return value.astimezone(zoneinfo.ZoneInfo(zone_name)).replace(tzinfo=None)
