"""Pure date and time-zone helpers: local wall time <-> UTC instants, with DST gaps named."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The end of time for open-ended recurrences, as an epoch second (9999-12-31T23:59:59Z).
END_OF_TIME = 253_402_300_799


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a spring-forward change in its zone."""


@functools.lru_cache(maxsize=512)
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name``; ``ValueError`` naming it when it is unknown."""
    if not name or name != name.strip() or ".." in name or name.startswith("/"):
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Paris"
        ) from exc


def localize(naive: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall-clock time, refusing a time that does not exist there.

    Ambiguous times (the repeated hour in autumn) take the first, summer-time, reading.
    """
    aware = naive.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != naive:
        raise NonexistentLocalTime(
            f"{naive.isoformat()} does not exist in {tz.key}: the clocks go forward that night"
        )
    return aware


def lenient_localize(naive: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """Like ``localize`` but a skipped time keeps the offset before the change (RFC 5545 3.3.5)."""
    return naive.replace(tzinfo=tz, fold=0)


def to_local(value: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """The naive wall-clock time in ``tz`` of ``value`` (naive values are already local)."""
    if value.tzinfo is None:
        localize(value, tz)
        return value
    return value.astimezone(tz).replace(tzinfo=None)


def epoch(value: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime."""
    return int((value - EPOCH).total_seconds())


def day_start(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    """The aware instant at which ``day`` begins in ``tz``."""
    return lenient_localize(datetime.combine(day, time()), tz)


def instants(
    start: datetime | date, end: datetime | date | None, tz: zoneinfo.ZoneInfo, *, all_day: bool
) -> tuple[int, int]:
    """Epoch seconds of an occurrence's start and (exclusive) end.

    All-day ends are inclusive dates, so the instant is the start of the following day. An open
    end (a concert "from 18:30") ends when it starts.
    """
    if all_day:
        assert isinstance(start, date)
        last = end if end is not None else start
        assert isinstance(last, date)
        return epoch(day_start(_as_date(start), tz)), epoch(
            day_start(_as_date(last) + timedelta(days=1), tz)
        )
    assert isinstance(start, datetime)
    s = epoch(lenient_localize(start, tz))
    if end is None:
        return s, s
    assert isinstance(end, datetime)
    return s, epoch(lenient_localize(end, tz))


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def with_offset(naive: datetime, tz: zoneinfo.ZoneInfo) -> str:
    """``2027-05-04T18:30:00+02:00``: the wall time with its UTC offset in ``tz``."""
    return lenient_localize(naive, tz).isoformat()


def from_epoch(seconds: int, tz: zoneinfo.ZoneInfo) -> datetime:
    """The aware datetime in ``tz`` of an epoch second."""
    return datetime.fromtimestamp(seconds, tz)


# Events are dated within these years: far enough for history and planning, and clear of the
# edges where converting between zones overflows.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def parse_moment(value: object, *, what: str) -> date | datetime:
    """Read an ISO 8601 date (``2027-05-04``) or date-time; anything else is refused.

    Numbers are refused rather than read as Unix timestamps, and years are kept within
    ``FIRST_YEAR``..``LAST_YEAR``.
    """
    shapes = (
        "write 2027-05-04T18:30:00 (local time), 2027-05-04T18:30:00+02:00, "
        "or 2027-05-04 for an all-day event"
    )
    if isinstance(value, date):
        moment: date | datetime = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = (
                date.fromisoformat(text)
                if len(text) == 10
                else datetime.fromisoformat(text.replace("z", "Z"))
            )
        except ValueError:
            raise ValueError(f"{value!r} is not a valid {what}: {shapes}") from None
    else:
        raise ValueError(f"a {what} is a text: {shapes}")
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return moment


def utc_now() -> datetime:
    """Now, aware, in UTC (the one place the clock is read)."""
    return datetime.now(UTC)
