"""Pure recurrence logic: RRULE checking and RRULE/RDATE/EXDATE expansion, capped.

Rules are expanded in the event's local wall time (a weekly 18:30 stays at 18:30 across the DST
changes, as RFC 5545 requires); callers turn the local times into instants.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule as dateutil_rrule

KNOWN_PARTS = {
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
}
ALLOWED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


class RecurrenceError(ValueError):
    """An RRULE a calendar could not read, or one that never happens."""


def _parts(rule: str) -> dict[str, str]:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        raise RecurrenceError("the RRULE is empty")
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        name, sep, value = piece.partition("=")
        name = name.strip().upper()
        if not sep or not value.strip():
            raise RecurrenceError(f"{piece!r} is not NAME=VALUE")
        if name not in KNOWN_PARTS:
            raise RecurrenceError(f"unknown RRULE part {name!r}")
        if name in parts:
            raise RecurrenceError(f"{name} is given twice")
        parts[name] = value.strip().upper()
    return parts


def normalise_rrule(
    rule: str, dtstart: datetime | date, tz: zoneinfo.ZoneInfo, *, all_day: bool, cap: int
) -> str:
    """Check ``rule`` against the event's start and return it in canonical form.

    The canonical form is what calendars expect next to a ``DTSTART;TZID=``: ``UNTIL`` in UTC
    (``...Z``) for timed events and as a date for all-day events. ``UNTIL`` may be given as a
    date (the whole local day counts), a local date-time or a UTC date-time.
    Raises ``RecurrenceError`` with a sentence a user understands.
    """
    parts = _parts(rule)
    freq = parts.get("FREQ")
    if freq is None:
        raise RecurrenceError("FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)")
    if freq not in ALLOWED_FREQ:
        raise RecurrenceError(f"FREQ={freq} is not allowed: use DAILY, WEEKLY, MONTHLY or YEARLY")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("give COUNT or UNTIL, not both")
    if "COUNT" in parts:
        if not parts["COUNT"].isdigit() or int(parts["COUNT"]) < 1:
            raise RecurrenceError("COUNT must be a whole number of at least 1")
        if int(parts["COUNT"]) > cap:
            raise RecurrenceError(f"COUNT={parts['COUNT']} is more than the {cap} allowed")
    if "INTERVAL" in parts and (not parts["INTERVAL"].isdigit() or int(parts["INTERVAL"]) < 1):
        raise RecurrenceError("INTERVAL must be a whole number of at least 1")
    if "UNTIL" in parts:
        until_local = _until_local(parts["UNTIL"], tz, all_day=all_day)
        if all_day:
            parts["UNTIL"] = until_local.strftime("%Y%m%d")
        else:
            until_utc = until_local.replace(tzinfo=tz).astimezone(UTC)
            parts["UNTIL"] = until_utc.strftime("%Y%m%dT%H%M%SZ")
    canonical = ";".join(f"{k}={v}" for k, v in _ordered(parts))
    try:
        compiled = _compile(canonical, _as_datetime(dtstart), tz, all_day=all_day)
        first = next(iter(compiled), None)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"invalid RRULE: {exc}") from None
    if first is None:
        raise RecurrenceError("this RRULE produces no date at all (check UNTIL and BY... parts)")
    if first != _as_datetime(dtstart):
        # Calendars disagree on a start that the rule itself would not produce (RFC 5545
        # leaves it undefined), so the start must be the rule's first date.
        raise RecurrenceError(
            f"the start is not one of the rule's dates; the rule's first date is "
            f"{first.date().isoformat() if all_day else first.isoformat()}"
        )
    return canonical


def _ordered(parts: dict[str, str]) -> Iterable[tuple[str, str]]:
    order = ["FREQ", "INTERVAL", "COUNT", "UNTIL"]
    yield from ((k, parts[k]) for k in order if k in parts)
    yield from ((k, v) for k, v in parts.items() if k not in order)


def _until_local(value: str, tz: zoneinfo.ZoneInfo, *, all_day: bool) -> datetime:
    """UNTIL as a naive local datetime (inclusive bound)."""
    try:
        if len(value) == 8:
            day = datetime.strptime(value, "%Y%m%d")
            return day if all_day else datetime.combine(day.date(), time(23, 59, 59))
        if value.endswith("Z"):
            utc = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            local = utc.astimezone(tz).replace(tzinfo=None)
            return datetime.combine(local.date(), time()) if all_day else local
        local = datetime.strptime(value, "%Y%m%dT%H%M%S")
        return datetime.combine(local.date(), time()) if all_day else local
    except ValueError:
        raise RecurrenceError(
            f"UNTIL={value} is not a date (20270612) or date-time (20270612T235959Z)"
        ) from None


def _as_datetime(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _compile(
    canonical: str, dtstart: datetime, tz: zoneinfo.ZoneInfo, *, all_day: bool
) -> dateutil_rrule.rrule:
    parts = _parts(canonical)
    if "UNTIL" in parts:
        until = _until_local(parts["UNTIL"], tz, all_day=all_day)
        parts["UNTIL"] = until.strftime("%Y%m%dT%H%M%S")
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    compiled = dateutil_rrule.rrulestr(text, dtstart=dtstart, forceset=False)
    assert isinstance(compiled, dateutil_rrule.rrule)
    return compiled


def expand(
    *,
    start: datetime | date,
    rrule: str | None,
    rdates: Iterable[datetime | date],
    exdates: Iterable[datetime | date],
    tz: zoneinfo.ZoneInfo,
    all_day: bool,
    until: datetime | None = None,
    cap: int,
) -> tuple[list[datetime], bool]:
    """Every occurrence start, as naive local datetimes, in order.

    Stops after ``cap`` occurrences, and at ``until`` (naive local, inclusive) when given.
    Returns ``(starts, complete)``; ``complete`` is false when the rule goes on past what was
    returned (an open-ended rule cut at ``until``, or the cap reached).
    """
    dtstart = _as_datetime(start)
    starts: set[datetime] = {dtstart}
    complete = True
    if rrule:
        compiled = _compile(rrule, dtstart, tz, all_day=all_day)
        for i, value in enumerate(compiled):
            if i >= cap:
                complete = False
                break
            if until is not None and value > until:
                complete = False
                break
            starts.add(value)
    for extra in rdates:
        moment = _as_datetime(extra)
        if until is None or moment <= until:
            starts.add(moment)
        else:
            complete = False
    for excluded in exdates:
        starts.discard(_as_datetime(excluded))
    ordered = sorted(starts)
    if len(ordered) > cap:
        ordered, complete = ordered[:cap], False
    return ordered, complete


def occurrence_end(
    start: datetime, first_start: datetime | date, first_end: datetime | date | None
) -> datetime | None:
    """The local end of an occurrence: the first occurrence's duration, applied to ``start``."""
    if first_end is None:
        return None
    duration: timedelta = _as_datetime(first_end) - _as_datetime(first_start)
    return start + duration
