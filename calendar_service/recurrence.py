"""Pure recurrence logic: RRULE checking and RRULE/RDATE/EXDATE expansion, bounded (the rule
engine is ``rules.py``).

Rules are expanded in the event's local wall time (a weekly 18:30 stays at 18:30 across the DST
changes, as RFC 5545 requires); callers turn the local times into instants.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from calendar_service.dates import LAST_YEAR
from calendar_service.rules import (
    BYDAY_PATTERN,
    MAX_DATES_PER_DAY,
    MAX_DATES_PER_YEAR,
    PART_ORDER,
    SEARCH_YEARS,
    RecurrenceError,
    Rule,
    Walk,
    as_datetime,
    compile_rule,
    parse_parts,
)

__all__ = [
    "MAX_DATES_PER_DAY",
    "MAX_DATES_PER_YEAR",
    "RecurrenceError",
    "compile_rule",
    "expand",
    "normalise_rrule",
    "occurrence_end",
]


def _canonical(parts: dict[str, str], rule: Rule, tz: zoneinfo.ZoneInfo, *, all_day: bool) -> str:
    """The rule as calendars expect it beside a ``DTSTART;TZID=``: UNTIL in UTC for timed events
    and as a date for all-day ones, numbers without signs or zeros they do not need."""
    out = dict(parts)
    if rule.until is not None:
        if all_day:
            out["UNTIL"] = rule.until.strftime("%Y%m%d")
        else:
            out["UNTIL"] = rule.until.replace(tzinfo=tz).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS", "BYHOUR"):
        if name in out:
            out[name] = ",".join(str(int(v)) for v in out[name].split(","))
    for name in ("BYMINUTE", "BYSECOND", "INTERVAL", "COUNT"):
        if name in out:
            out[name] = ",".join(str(int(v)) for v in out[name].split(","))
    if "BYDAY" in out:
        days = []
        for raw in out["BYDAY"].split(","):
            match = BYDAY_PATTERN.match(raw.strip())
            assert match is not None
            days.append((str(int(match.group(1))) if match.group(1) else "") + match.group(2))
        out["BYDAY"] = ",".join(days)
    ordered = [(k, out[k]) for k in PART_ORDER if k in out]
    ordered += [(k, v) for k, v in out.items() if k not in PART_ORDER]
    return ";".join(f"{k}={v}" for k, v in ordered)


def normalise_rrule(
    rule: str, dtstart: datetime | date, tz: zoneinfo.ZoneInfo, *, all_day: bool, cap: int
) -> str:
    """Check ``rule`` against the event's start and return it in canonical form.

    The start must be the rule's first date (calendars disagree on a start the rule would not
    produce). The check costs the start's period and at most a year of the rule's dates,
    whatever the rule. ``UNTIL`` may be given as a date (the whole local day counts), a local
    date-time or a UTC date-time. Raises ``RecurrenceError`` with a sentence a user understands.
    """
    compiled = compile_rule(rule, dtstart, tz, all_day=all_day)
    if compiled.count is not None and compiled.count > cap:
        raise RecurrenceError(f"COUNT={compiled.count} is more than the {cap} allowed")
    start = compiled.dtstart
    if compiled.until is not None and compiled.until < start:
        raise RecurrenceError("this RRULE produces no date at all: UNTIL is before the start")
    if start not in compiled.period_dates(0):
        raise RecurrenceError(_not_a_date(compiled, all_day=all_day))
    for made, _ in enumerate(compiled.dates(before=start + timedelta(days=365)), start=1):
        if made > MAX_DATES_PER_YEAR:
            raise RecurrenceError(
                f"this rule makes more than {MAX_DATES_PER_YEAR} dates a year; "
                f"at most {MAX_DATES_PER_YEAR} are allowed"
            )
    return _canonical(parse_parts(rule), compiled, tz, all_day=all_day)


def _not_a_date(rule: Rule, *, all_day: bool) -> str:
    """Why the start does not fit: the rule's own first date when there is one soon enough."""
    horizon = rule.dtstart.year + SEARCH_YEARS
    period = 0
    while rule.period_year(period) <= min(horizon, LAST_YEAR):
        for moment in rule.period_dates(period):
            if moment < rule.dtstart:
                continue
            if rule.until is not None and moment > rule.until:
                break
            shown = moment.date().isoformat() if all_day else moment.isoformat()
            return f"the start is not one of the rule's dates; the rule's first date is {shown}"
        period += 1
    return (
        f"this RRULE produces no date at all in the {SEARCH_YEARS} years from the start "
        "(check UNTIL and the BY... parts)"
    )


def expand(
    *,
    start: datetime | date,
    rrule: str | None,
    rdates: Iterable[datetime | date],
    exdates: Iterable[datetime | date],
    tz: zoneinfo.ZoneInfo,
    all_day: bool,
    until: datetime | None = None,
    after: datetime | None = None,
    cap: int,
) -> tuple[list[datetime], bool]:
    """Every occurrence start, as naive local datetimes, in order.

    Starts at ``after`` (naive local, inclusive) when given, stops after ``cap`` occurrences
    and at ``until`` (naive local, inclusive) when given. Returns ``(starts, complete)``;
    ``complete`` is false when the rule goes on past what was returned (an open-ended rule cut
    at ``until``, or the cap reached). The work is bounded by the window, not by the rule.
    """
    dtstart = as_datetime(start)
    starts: set[datetime] = set()
    if after is None or dtstart >= after:
        starts.add(dtstart)
    complete = True
    if rrule:
        compiled = compile_rule(rrule, start, tz, all_day=all_day)
        walk = Walk()
        for produced, value in enumerate(compiled.dates(after=after, before=until, walk=walk)):
            if produced >= cap:
                break
            starts.add(value)
        complete = walk.ended
    for extra in rdates:
        moment = as_datetime(extra)
        if after is not None and moment < after:
            continue
        if until is None or moment <= until:
            starts.add(moment)
        else:
            complete = False
    for excluded in exdates:
        starts.discard(as_datetime(excluded))
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
    duration: timedelta = as_datetime(first_end) - as_datetime(first_start)
    return start + duration
