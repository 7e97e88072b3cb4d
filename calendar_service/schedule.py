"""When a (normalised) event happens: its occurrences as UTC instants, for storage and queries.

Occurrences are stored when the event is written, so that listing them costs what the page
costs. Open-ended rules are stored up to a horizon; past it they are expanded on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from calendar_service.dates import END_OF_TIME, epoch, from_epoch, instants, utc_now, zone
from calendar_service.models import EventIn
from calendar_service.recurrence import expand, occurrence_end
from calendar_service.settings import Settings

# Occurrences longer than this are "long" (an exhibition over weeks); the rest are found by a
# bounded index range, the long ones by their end.
SHORT_SPAN = 2 * 86_400


@dataclass(frozen=True)
class OccurrenceTimes:
    """One occurrence as epoch seconds; ``end`` is exclusive and equals ``start`` when open."""

    start: int
    end: int

    @property
    def long(self) -> bool:
        return self.end - self.start > SHORT_SPAN


@dataclass(frozen=True)
class Schedule:
    """What the store keeps about an event's times, derived from the event alone."""

    start_ts: int
    end_ts: int
    last_end_ts: int
    occurrences: list[OccurrenceTimes]
    expanded_until_ts: int | None


def _expand(
    event: EventIn, *, until: datetime, cap: int, after: datetime | None = None
) -> tuple[list[datetime], bool]:
    """The local starts of a recurring event from ``after`` up to ``until`` (see
    ``recurrence.expand``)."""
    assert event.recurrence is not None
    return expand(
        start=event.start,
        rrule=event.recurrence.rrule,
        rdates=event.recurrence.rdates,
        exdates=event.recurrence.exdates,
        tz=zone(event.timezone or "UTC"),
        all_day=event.all_day,
        until=until,
        after=after,
        cap=cap,
    )


def _occurrence(event: EventIn, local_start: datetime) -> OccurrenceTimes:
    tz = zone(event.timezone or "UTC")
    if event.all_day:
        day = local_start.date()
        assert isinstance(event.start, date) and isinstance(event.end, date)
        last = day + (event.end - event.start) if event.end is not None else day
        s, e = instants(day, last, tz, all_day=True)
    else:
        local_end = occurrence_end(local_start, event.start, event.end)
        s, e = instants(local_start, local_end, tz, all_day=False)
    return OccurrenceTimes(s, e)


def schedule_of(event: EventIn, *, now: datetime, horizon_days: int, cap: int) -> Schedule:
    """The schedule of a normalised event, with occurrences stored up to the horizon."""
    tz = zone(event.timezone or "UTC")
    first = _occurrence(event, _as_datetime(event.start))
    if event.recurrence is None:
        return Schedule(
            start_ts=first.start,
            end_ts=first.end,
            last_end_ts=first.end,
            occurrences=[first],
            expanded_until_ts=None,
        )
    horizon = max(now, from_epoch(first.start, tz)) + timedelta(days=horizon_days)
    horizon_local = horizon.astimezone(tz).replace(tzinfo=None)
    starts, complete = _expand(event, until=horizon_local, cap=cap)
    occurrences = [_occurrence(event, s) for s in starts]
    if complete:
        last_end = max((o.end for o in occurrences), default=first.end)
        until = None
    else:
        last_end = END_OF_TIME
        until = occurrences[-1].start if occurrences else epoch(horizon)
    return Schedule(
        start_ts=first.start,
        end_ts=first.end,
        last_end_ts=last_end,
        occurrences=occurrences,
        expanded_until_ts=until,
    )


def occurrences_between(
    event: EventIn, *, window_start: int, window_end: int, cap: int
) -> list[OccurrenceTimes]:
    """The occurrences overlapping ``[window_start, window_end)``, expanded now, from the
    window (not from the series' start: the cost is the window's, however old the series).

    For open-ended rules whose stored occurrences stop before the window's end, and for the
    next dates of one event.
    """
    tz = zone(event.timezone or "UTC")
    until_local = from_epoch(window_end, tz).replace(tzinfo=None)
    if event.recurrence is None:
        starts = [_as_datetime(event.start)]
    else:
        # An occurrence that starts before the window may still overlap it: look back by the
        # event's length (and a day, for clock changes).
        length = _length(event)
        after = from_epoch(window_start, tz).replace(tzinfo=None) - length - timedelta(days=1)
        starts, _ = _expand(event, until=until_local, after=after, cap=cap + 1_000)
    found = []
    for local in starts:
        occ = _occurrence(event, local)
        if occ.start < window_end and _overlaps(occ, window_start):
            found.append(occ)
            if len(found) >= cap:
                break
    return found


def _length(event: EventIn) -> timedelta:
    if event.end is None:
        return timedelta(0)
    length = _as_datetime(event.end) - _as_datetime(event.start)
    return length + timedelta(days=1) if event.all_day else length


def _overlaps(occ: OccurrenceTimes, window_start: int) -> bool:
    return occ.end > window_start or occ.start >= window_start


def _as_datetime(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())


def schedule_for(event: EventIn, settings: Settings) -> Schedule:
    """The stored schedule of a normalised event under these settings."""
    return schedule_of(
        event,
        now=utc_now(),
        horizon_days=settings.occurrence_horizon_days,
        cap=settings.max_occurrences,
    )
