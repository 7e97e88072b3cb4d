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

    def rule(self) -> tuple[int, int, str]:
        """(month, weekday, wall time): what yearly changes of one rule share."""
        local = self.local
        return (local.month, local.weekday(), local.strftime("%H%M%S"))


def _byday(run: list[Transition]) -> str | None:
    """The BYDAY (and BYMONTHDAY) that produce every change of ``run``, or None."""
    weekday = WEEKDAYS[run[0].local.weekday()]
    days = [t.local.day for t in run]
    lasts = [t.local.day + 7 > calendar.monthrange(t.local.year, t.local.month)[1] for t in run]
    if all(lasts):
        return f"BYDAY=-1{weekday}"
    ordinals = {(day - 1) // 7 + 1 for day in days}
    if len(ordinals) == 1:
        return f"BYDAY={ordinals.pop()}{weekday}"
    low = min(days)
    if max(days) - low <= 6:
        # "The first Sunday on or after the 2nd" (Chile): a week of days, one weekday.
        monthdays = ",".join(str(d) for d in range(low, low + 7))
        return f"BYMONTHDAY={monthdays};BYDAY={weekday}"
    return None


def fold(line: str, limit: int = 75) -> str:
    """A content line folded at ``limit`` octets, never inside a character (RFC 5545 3.1)."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size = " ", 1  # a continuation line starts with a space
        current += char
        size += width
    parts.append(current)
    return CRLF.join(parts)


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
            name = moment.tzname() or ""
            found.append(Transition(hi, previous, offset, name, offset > previous))
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
    summer = (moment.dst() or timedelta(0)) > timedelta(0)
    # TZOFFSETFROM is the offset before the change that began the period in force at the start
    # (dateutil-based readers misplace the first change when FROM equals TO in summer time).
    earlier = transitions(tz, date(first_year - 2, 1, 1), first)
    before = earlier[-1].before if earlier else initial
    opening = Transition(start - initial, before, initial, moment.tzname() or "", summer)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz_name}"]
    lines += _observance(opening, None)
    for run in _runs(changes):
        # Odd years (an election delaying a change) are written one by one; the longest tail
        # that follows one rule gets the RRULE, so the zone stays right past the range.
        start_at = next((k for k in range(len(run) - 1) if _byday(run[k:]) is not None), len(run))
        for change in run[:start_at]:
            lines += _observance(change, None)
        tail = run[start_at:]
        if not tail:
            continue
        rule = f"FREQ=YEARLY;BYMONTH={tail[0].local.month};{_byday(tail)}"
        if tail[-1].local.year < last_year:
            # The rule ended (the zone changed its rules): close it at its last change.
            rule += f";UNTIL={tail[-1].at.strftime('%Y%m%dT%H%M%SZ')}"
        lines += _observance(tail[0], rule if len(tail) > 1 else None)
    lines.append("END:VTIMEZONE")
    return CRLF.join(fold(line) for line in lines) + CRLF
