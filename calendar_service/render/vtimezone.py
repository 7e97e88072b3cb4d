"""VTIMEZONE components from the IANA database, written the way every client reads them.

Each run of years in which a zone changes its clocks by the same rule (the last Sunday of March
at 02:00...) becomes one observance with a yearly RRULE; a change that happens once becomes an
observance of its own. No multi-valued RDATE lists: ical.js reads only their first value and
Outlook mishandles them. The last run has no UNTIL, so the zone stays right past the range.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

CRLF = "\r\n"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    """A change of offset: when (UTC), from which offset to which, and the new name."""

    at: datetime
    before: timedelta
    after: timedelta
    name: str
    dst: bool

    @property
    def local(self) -> datetime:
        """The wall-clock time of the change, read in the offset before it (RFC 5545)."""
        return (self.at + self.before).replace(tzinfo=None)

    def rule(self) -> tuple[int, int, int, str] | None:
        """(month, weekday, ordinal, time) when it falls on an nth or last weekday, else None."""
        local = self.local
        last_day = calendar.monthrange(local.year, local.month)[1]
        if local.day + 7 > last_day:
            ordinal = -1
        elif local.day <= 28:
            ordinal = (local.day - 1) // 7 + 1
        else:
            return None
        return (local.month, local.weekday(), ordinal, local.strftime("%H%M%S"))


def _offset(tz: ZoneInfo, at: datetime) -> timedelta:
    value = at.astimezone(tz).utcoffset()
    assert value is not None
    return value


def transitions(tz: ZoneInfo, first: date, last: date) -> list[Transition]:
    """Every offset change of ``tz`` between two dates, to the second."""
    found = []
    day = datetime.combine(first, datetime.min.time(), UTC)
    end = datetime.combine(last, datetime.min.time(), UTC)
    previous = _offset(tz, day)
    while day < end:
        following = day + timedelta(days=1)
        offset = _offset(tz, following)
        if offset != previous:
            lo, hi = day, following
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if _offset(tz, mid) == previous:
                    lo = mid
                else:
                    hi = mid
            hi = hi.replace(microsecond=0)
            moment = hi.astimezone(tz)
            # Clocks going forward start daylight time (Dublin's "negative DST" reads sanely).
            found.append(Transition(hi, previous, offset, moment.tzname() or "", offset > previous))
            previous = offset
        day = following
    return found


def _utc_offset(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _observance(first: Transition, rrule: str | None) -> list[str]:
    kind = "DAYLIGHT" if first.dst else "STANDARD"
    lines = [f"BEGIN:{kind}", f"DTSTART:{first.local.strftime('%Y%m%dT%H%M%S')}"]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += [
        f"TZNAME:{first.name}",
        f"TZOFFSETFROM:{_utc_offset(first.before)}",
        f"TZOFFSETTO:{_utc_offset(first.after)}",
        f"END:{kind}",
    ]
    return lines


def _runs(changes: list[Transition]) -> list[list[Transition]]:
    """Consecutive changes of one kind that follow one yearly rule, grouped."""
    runs: dict[tuple[object, ...], list[list[Transition]]] = {}
    for change in changes:
        kind = (change.before, change.after, change.name, change.dst)
        groups = runs.setdefault(kind, [])
        current = groups[-1] if groups else None
        if (
            current is not None
            and change.rule() is not None
            and change.rule() == current[-1].rule()
            and change.local.year == current[-1].local.year + 1
        ):
            current.append(change)
        else:
            groups.append([change])
    ordered = [run for groups in runs.values() for run in groups]
    return sorted(ordered, key=lambda run: run[0].at)


@functools.lru_cache(maxsize=256)
def vtimezone(tz_name: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE of ``tz_name``, exact from ``first_year`` to ``last_year`` and beyond."""
    tz = ZoneInfo(tz_name)
    first, last = date(first_year, 1, 1), date(last_year + 1, 1, 1)
    changes = transitions(tz, first, last)
    start = datetime.combine(first, datetime.min.time(), UTC)
    initial = _offset(tz, start)
    moment = start.astimezone(tz)
    opening = Transition(
        start - initial, initial, initial, moment.tzname() or "", bool(moment.dst())
    )
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz_name}"]
    lines += _observance(opening, None)
    for run in _runs(changes):
        if len(run) == 1:
            lines += _observance(run[0], None)
            continue
        month, weekday, ordinal, _ = run[0].rule() or (0, 0, 0, "")
        rule = f"FREQ=YEARLY;BYMONTH={month};BYDAY={ordinal}{WEEKDAYS[weekday]}"
        if run[-1].local.year < last_year:
            # The rule ended (the zone changed its rules): close it at its last change.
            rule += f";UNTIL={run[-1].at.strftime('%Y%m%dT%H%M%SZ')}"
        lines += _observance(run[0], rule)
    lines.append("END:VTIMEZONE")
    return CRLF.join(lines) + CRLF
