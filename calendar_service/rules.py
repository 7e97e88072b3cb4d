"""RRULEs read into ``Rule`` objects whose dates cost the window asked for, whatever the rule.

Why not iterate ``dateutil.rrule`` directly: it walks period after period until a date comes
out, so a rule that never matches ("the 30th of February, daily") walks to the year 9999 (whole
seconds, on whichever thread runs it), and a series begun long ago is walked from its start on
every request. Here a rule is cut into its periods (a year, a month, a week, a day):

- each period's dates come from dateutil restricted to that one period (an INTERVAL so large
  that the next period is past the year 9999), so dateutil's meaning of every BY... part is kept
  and its cost is one period's;
- periods are visited in order and the walk stops at the window's end, at the rule's end, at
  ``LAST_YEAR`` and at a cap, and starts at the window (a rule without COUNT jumps straight to
  the first period that can hold a date of the window);
- "is the start one of the rule's dates" is answered from the start's own period alone.

So the cost of any check or expansion is bounded by the window, never by the rule. Rules that
make more than ``MAX_DATES_PER_DAY`` dates in a day or ``MAX_DATES_PER_YEAR`` in a year are
refused, and so are the combinations RFC 5545 forbids or calendars read differently.
"""

from __future__ import annotations

import functools
import math
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule as dateutil_rrule

from calendar_service.dates import FIRST_YEAR, LAST_YEAR

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
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Documented limits (README, "Recurrence"): a rule making more dates than this is refused.
MAX_DATES_PER_DAY = 24
MAX_DATES_PER_YEAR = 1_100
MAX_INTERVAL = 1_000
# How far a refused rule's first date is looked for, to name it in the message.
SEARCH_YEARS = 3
# dateutil computes one period when the next one is past the year 9999.
_ONE_YEAR_ONLY = 10_000
_ONE_MONTH_ONLY = 12 * 10_000
_NUMBER = re.compile(r"^[+-]?[0-9]{1,3}$")
BYDAY_PATTERN = re.compile(r"^([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
PART_ORDER = ["FREQ", "INTERVAL", "COUNT", "UNTIL"]


class RecurrenceError(ValueError):
    """An RRULE a calendar could not read, or one that never happens."""


def parse_parts(rule: str) -> dict[str, str]:
    """The ``NAME=VALUE`` parts of an RRULE (upper-cased), each known and given once."""
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
            raise RecurrenceError(f"{piece[:40]!r} is not NAME=VALUE")
        if name not in KNOWN_PARTS:
            raise RecurrenceError(f"unknown RRULE part {name[:40]!r}")
        if name in parts:
            raise RecurrenceError(f"{name} is given twice")
        parts[name] = value.strip().upper()
    return parts


def _whole(name: str, value: str, lo: int, hi: int) -> int:
    if not value.isascii() or not value.isdigit() or not lo <= int(value) <= hi:
        raise RecurrenceError(f"{name} must be a whole number from {lo} to {hi}")
    return int(value)


def _numbers(name: str, value: str, lo: int, hi: int, *, signed: bool) -> tuple[int, ...]:
    """A BY... list of whole numbers: ``lo..hi``, and ``-hi..-lo`` when ``signed``."""
    found: set[int] = set()
    for raw in value.split(","):
        raw = raw.strip()
        if not raw.isascii() or not _NUMBER.match(raw):
            raise RecurrenceError(f"{name} takes whole numbers separated by commas")
        number = int(raw)
        if not (lo <= number <= hi or (signed and -hi <= number <= -lo)):
            span = f"{lo} to {hi}" + (f" or -{hi} to -{lo}" if signed else "")
            raise RecurrenceError(f"{name}={raw} is out of range ({span})")
        found.add(number)
    return tuple(sorted(found))


def _weekday(name: str, value: str) -> int:
    if value not in WEEKDAYS:
        raise RecurrenceError(f"{name}={value[:10]} is not a weekday (MO, TU, ... SU)")
    return WEEKDAYS.index(value)


def _bydays(
    value: str, freq: str, *, weekno: bool, bymonth: bool
) -> tuple[tuple[int | None, int], ...]:
    found: set[tuple[int | None, int]] = set()
    for raw in value.split(","):
        match = BYDAY_PATTERN.match(raw.strip())
        if match is None or not raw.isascii():
            raise RecurrenceError(
                f"BYDAY={raw.strip()[:12]} is not a weekday such as TH, 2TH (second) or -1FR (last)"
            )
        ordinal = int(match.group(1)) if match.group(1) else None
        if ordinal is not None:
            if freq not in ("MONTHLY", "YEARLY") or weekno:
                raise RecurrenceError(
                    "a numbered weekday (2TH, -1FR) needs FREQ=MONTHLY or FREQ=YEARLY without "
                    "BYWEEKNO"
                )
            # Within a month (MONTHLY, or YEARLY with BYMONTH) there are at most five.
            top = 5 if freq == "MONTHLY" or bymonth else 53
            if ordinal == 0 or abs(ordinal) > top:
                raise RecurrenceError(f"BYDAY={raw.strip()} is out of range (1 to {top})")
        found.add((ordinal, WEEKDAYS.index(match.group(2))))
    return tuple(sorted(found, key=lambda d: (d[0] or 0, d[1])))


@dataclass(frozen=True)
class Rule:
    """A checked RRULE with every default made explicit (as dateutil would take it from the
    start), so that any of its periods can be computed on its own."""

    freq: str
    interval: int
    count: int | None
    until: datetime | None  # naive local, inclusive
    dtstart: datetime  # naive local
    bymonth: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    byyearday: tuple[int, ...] = ()
    byweekno: tuple[int, ...] = ()
    byday: tuple[tuple[int | None, int], ...] = ()
    bysetpos: tuple[int, ...] = ()
    times: tuple[time, ...] = (time(),)
    wkst: int = 0

    def dateutil_arguments(self) -> dict[str, object]:
        weekdays = [
            dateutil_rrule.weekday(day, n) if n is not None else dateutil_rrule.weekday(day)
            for n, day in self.byday
        ]
        return {
            "wkst": self.wkst,
            "bymonth": list(self.bymonth) or None,
            "bymonthday": list(self.bymonthday) or None,
            "byyearday": list(self.byyearday) or None,
            "byweekno": list(self.byweekno) or None,
            "byweekday": weekdays or None,
            "bysetpos": list(self.bysetpos) or None,
            "byhour": sorted({t.hour for t in self.times}),
            "byminute": sorted({t.minute for t in self.times}),
            "bysecond": sorted({t.second for t in self.times}),
            "cache": False,
        }

    # --- periods ------------------------------------------------------------------------------

    def period_dates(self, period: int) -> list[datetime]:
        """Every date of the rule's ``period``-th period (0 holds the start), in order, before
        the start, UNTIL and COUNT are applied."""
        if self.freq == "YEARLY":
            return _one_period(self, self.period_year(period), 1)
        if self.freq == "MONTHLY":
            year, month = self._month(period)
            if self.bymonth and month not in self.bymonth:
                return []
            return _one_period(self, year, month)
        first = self._period_start(period)
        days = [first] if self.freq == "DAILY" else [first + timedelta(days=i) for i in range(7)]
        found = [
            datetime.combine(d, t)
            for d in days
            if d in _matching_day_set(self, d.year)
            for t in self.times
        ]
        return _set_positions(found, self.bysetpos)

    def _month(self, period: int) -> tuple[int, int]:
        index = self.dtstart.year * 12 + self.dtstart.month - 1 + period * self.interval
        year, month = divmod(index, 12)
        return year, month + 1

    def _period_start(self, period: int) -> date:
        if self.freq == "DAILY":
            return self.dtstart.date() + timedelta(days=period * self.interval)
        return _week_start(self.dtstart.date(), self.wkst) + timedelta(weeks=period * self.interval)

    def period_of(self, moment: datetime) -> int:
        """The first period that can hold dates at or after ``moment`` (never before 0)."""
        start = self.dtstart
        if self.freq == "YEARLY":
            gap = moment.year - start.year
        elif self.freq == "MONTHLY":
            gap = (moment.year - start.year) * 12 + moment.month - start.month
        elif self.freq == "DAILY":
            gap = (moment.date() - start.date()).days
        else:
            gap = (
                _week_start(moment.date(), self.wkst) - _week_start(start.date(), self.wkst)
            ).days
            gap //= 7
        return max(0, math.ceil(gap / self.interval))

    def period_year(self, period: int) -> int:
        if self.freq == "YEARLY":
            return self.dtstart.year + period * self.interval
        if self.freq == "MONTHLY":
            return self._month(period)[0]
        return self._period_start(period).year

    def _chunks(self, after: datetime | None) -> Iterator[tuple[datetime, list[datetime]]]:
        """``(earliest possible date, dates)`` in order: the periods of a monthly or yearly
        rule, whole years of a daily or weekly one (a sparse rule costs its years, not its
        days). Without COUNT the walk starts at ``after``."""
        jump = after is not None and self.count is None
        if self.freq in ("DAILY", "WEEKLY"):
            year = max(self.dtstart.year, after.year) if jump and after is not None else 0
            year = max(year, self.dtstart.year)
            while year <= LAST_YEAR:
                yield datetime(year, 1, 1), self._year_of_days(year)
                year += 1
            return
        period = self.period_of(after) if jump and after is not None else 0
        while self.period_year(period) <= LAST_YEAR:
            year, month = self._month(period) if self.freq == "MONTHLY" else (0, 1)
            first = datetime(year, month, 1) if self.freq == "MONTHLY" else None
            if first is None:
                first = datetime(self.period_year(period), 1, 1)
            yield first, self.period_dates(period)
            period += 1

    def _year_of_days(self, year: int) -> list[datetime]:
        """The dates of a daily or weekly rule in ``year``, INTERVAL applied."""
        first_day = self.dtstart.date()
        first_week = _week_start(first_day, self.wkst)
        found: list[datetime] = []
        for day in _matching_days(self, year):
            if day < first_day:
                continue
            if self.freq == "DAILY":
                if (day - first_day).days % self.interval:
                    continue
                found.extend(
                    _set_positions([datetime.combine(day, t) for t in self.times], self.bysetpos)
                )
            else:
                if ((_week_start(day, self.wkst) - first_week).days // 7) % self.interval:
                    continue
                found.extend(datetime.combine(day, t) for t in self.times)
        return found

    # --- dates --------------------------------------------------------------------------------

    def dates(
        self,
        *,
        after: datetime | None = None,
        before: datetime | None = None,
        walk: Walk | None = None,
    ) -> Iterator[datetime]:
        """The rule's dates in order, from ``after`` to ``before`` (both inclusive) when given,
        until its UNTIL, its COUNT, or ``LAST_YEAR``. ``walk.ended`` tells afterwards whether
        the rule has no date left (rather than the walk stopping at ``before``)."""
        left = self.count
        for first, found in self._chunks(after):
            if before is not None and first > before:
                return
            for moment in found:
                if moment < self.dtstart:
                    continue
                if self.until is not None and moment > self.until:
                    if walk is not None:
                        walk.ended = True
                    return
                if left is not None:
                    if left == 0:
                        if walk is not None:
                            walk.ended = True
                        return
                    left -= 1
                if after is not None and moment < after:
                    continue
                if before is not None and moment > before:
                    return
                yield moment
        if walk is not None:
            walk.ended = True


@dataclass
class Walk:
    """What a walk through a rule's dates found out: whether the rule ended."""

    ended: bool = False


def _week_start(day: date, wkst: int) -> date:
    return day - timedelta(days=(day.weekday() - wkst) % 7)


def _set_positions(found: list[datetime], positions: tuple[int, ...]) -> list[datetime]:
    """BYSETPOS: the dates at these 1-based (or negative, from the end) positions."""
    if not positions:
        return found
    picked = set()
    for position in positions:
        index = position - 1 if position > 0 else position
        if -len(found) <= index < len(found):
            picked.add(found[index])
    return sorted(picked)


def _one_period(rule: Rule, year: int, month: int) -> list[datetime]:
    """The dates of one yearly (``month`` 1) or monthly period, read by dateutil alone."""
    if not FIRST_YEAR - 1 <= year <= 9_998:
        return []
    monthly = rule.freq == "MONTHLY"
    one = dateutil_rrule.rrule(
        dateutil_rrule.MONTHLY if monthly else dateutil_rrule.YEARLY,
        dtstart=datetime(year, month, 1),
        interval=_ONE_MONTH_ONLY if monthly else _ONE_YEAR_ONLY,
        **rule.dateutil_arguments(),  # type: ignore[arg-type]
    )
    return list(one)


@functools.lru_cache(maxsize=256)
def _matching_day_set(rule: Rule, year: int) -> frozenset[date]:
    return frozenset(_matching_days(rule, year))


@functools.lru_cache(maxsize=256)
def _matching_days(rule: Rule, year: int) -> tuple[date, ...]:
    """The days of ``year`` that a DAILY or WEEKLY rule's day filters let through (BYMONTH,
    BYMONTHDAY, BYDAY), read by dateutil as one yearly period."""
    if not FIRST_YEAR - 1 <= year <= 9_998:
        return ()
    weekdays = [dateutil_rrule.weekday(day) for _, day in rule.byday] or None
    if weekdays is None and not rule.bymonthday:
        weekdays = [dateutil_rrule.weekday(day) for day in range(7)]  # no filter: every day
    one = dateutil_rrule.rrule(
        dateutil_rrule.YEARLY,
        dtstart=datetime(year, 1, 1),
        interval=_ONE_YEAR_ONLY,
        bymonth=list(rule.bymonth) or None,
        bymonthday=list(rule.bymonthday) or None,
        byweekday=weekdays,
        byhour=0,
        byminute=0,
        bysecond=0,
        cache=False,
    )
    return tuple(moment.date() for moment in one)


def compile_rule(
    rule: str, dtstart: datetime | date, tz: zoneinfo.ZoneInfo, *, all_day: bool
) -> Rule:
    """The ``Rule`` of an RRULE text (canonical or not) for an event starting at ``dtstart``;
    ``RecurrenceError`` with a sentence a user understands when it is not one we accept."""
    parts = parse_parts(rule)
    freq = parts.get("FREQ")
    if freq is None:
        raise RecurrenceError("FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)")
    if freq not in ALLOWED_FREQ:
        raise RecurrenceError(
            f"FREQ={freq[:20]} is not allowed: use DAILY, WEEKLY, MONTHLY or YEARLY"
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("give COUNT or UNTIL, not both")
    start = as_datetime(dtstart)
    count = None
    if "COUNT" in parts:
        value = parts["COUNT"]
        if not value.isascii() or not value.isdigit() or int(value) < 1:
            raise RecurrenceError("COUNT must be a whole number of at least 1")
        count = int(value)
    interval = _whole("INTERVAL", parts.get("INTERVAL", "1"), 1, MAX_INTERVAL)
    until = _until_local(parts["UNTIL"], tz, all_day=all_day) if "UNTIL" in parts else None
    weekno = "BYWEEKNO" in parts
    for name, allowed in (
        ("BYWEEKNO", ("YEARLY",)),
        ("BYYEARDAY", ("YEARLY",)),
        ("BYMONTHDAY", ("DAILY", "MONTHLY", "YEARLY")),
        ("BYSETPOS", ("DAILY", "MONTHLY", "YEARLY")),
    ):
        if name in parts and freq not in allowed:
            raise RecurrenceError(
                f"{name} cannot be used with FREQ={freq} (calendars read it differently)"
            )
    if all_day and {"BYHOUR", "BYMINUTE", "BYSECOND"} & parts.keys():
        raise RecurrenceError("an all-day event repeats on days: BYHOUR, BYMINUTE, BYSECOND")
    if "BYSETPOS" in parts and not {p for p in parts if p.startswith("BY")} - {"BYSETPOS"}:
        raise RecurrenceError("BYSETPOS needs another BY... part to pick from")
    fields: dict[str, object] = {
        "bymonth": _numbers("BYMONTH", parts.get("BYMONTH", ""), 1, 12, signed=False)
        if "BYMONTH" in parts
        else (),
        "bymonthday": _numbers("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, signed=True)
        if "BYMONTHDAY" in parts
        else (),
        "byyearday": _numbers("BYYEARDAY", parts["BYYEARDAY"], 1, 366, signed=True)
        if "BYYEARDAY" in parts
        else (),
        "byweekno": _numbers("BYWEEKNO", parts["BYWEEKNO"], 1, 53, signed=True) if weekno else (),
        "byday": _bydays(parts["BYDAY"], freq, weekno=weekno, bymonth="BYMONTH" in parts)
        if "BYDAY" in parts
        else (),
        "bysetpos": _numbers("BYSETPOS", parts["BYSETPOS"], 1, 366, signed=True)
        if "BYSETPOS" in parts
        else (),
        "wkst": _weekday("WKST", parts["WKST"]) if "WKST" in parts else 0,
    }
    hours = _numbers("BYHOUR", parts["BYHOUR"], 0, 23, signed=False) if "BYHOUR" in parts else ()
    minutes = (
        _numbers("BYMINUTE", parts["BYMINUTE"], 0, 59, signed=False) if "BYMINUTE" in parts else ()
    )
    seconds = (
        _numbers("BYSECOND", parts["BYSECOND"], 0, 59, signed=False) if "BYSECOND" in parts else ()
    )
    per_day = max(len(hours), 1) * max(len(minutes), 1) * max(len(seconds), 1)
    if per_day > MAX_DATES_PER_DAY:
        raise RecurrenceError(
            f"this rule makes {per_day} dates a day; at most {MAX_DATES_PER_DAY} are allowed"
        )
    fields["times"] = tuple(
        time(h, m, s)
        for h in hours or (start.hour,)
        for m in minutes or (start.minute,)
        for s in seconds or (start.second,)
    )
    # dateutil's defaults, made explicit so that a period can be computed on its own.
    if not (fields["byweekno"] or fields["byyearday"] or fields["bymonthday"] or fields["byday"]):
        if freq == "YEARLY":
            fields["bymonth"] = fields["bymonth"] or (start.month,)
            fields["bymonthday"] = (start.day,)
        elif freq == "MONTHLY":
            fields["bymonthday"] = (start.day,)
        elif freq == "WEEKLY":
            fields["byday"] = ((None, start.weekday()),)
    return Rule(
        freq=freq,
        interval=interval,
        count=count,
        until=until,
        dtstart=start,
        **fields,  # type: ignore[arg-type]
    )


def _until_local(value: str, tz: zoneinfo.ZoneInfo, *, all_day: bool) -> datetime:
    """UNTIL as a naive local datetime (inclusive bound)."""
    try:
        if not value.isascii():
            raise ValueError(value)
        if len(value) == 8:
            day = datetime.strptime(value, "%Y%m%d")
            moment = day if all_day else datetime.combine(day.date(), time(23, 59, 59))
        elif value.endswith("Z"):
            utc = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            local = utc.astimezone(tz).replace(tzinfo=None)
            moment = datetime.combine(local.date(), time()) if all_day else local
        else:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S")
            moment = datetime.combine(local.date(), time()) if all_day else local
    except (ValueError, OverflowError):
        raise RecurrenceError(
            f"UNTIL={value[:20]} is not a date (20270612) or date-time (20270612T235959Z)"
        ) from None
    if moment.year < FIRST_YEAR:
        raise RecurrenceError(f"UNTIL must be after {FIRST_YEAR}")
    # "Until 9999" is how some calendars say "for ever": no date is kept past LAST_YEAR anyway.
    return min(moment, datetime(LAST_YEAR, 12, 31, 0 if all_day else 23, 0 if all_day else 59))


def as_datetime(value: datetime | date) -> datetime:
    """A date as its midnight; a date-time as it is."""
    return value if isinstance(value, datetime) else datetime.combine(value, time())
