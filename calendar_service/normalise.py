"""Checks that involve several fields, and the canonical form every stored event takes.

After ``normalise_event`` an event's ``start``/``end`` (and recurrence dates) are naive wall-clock
times in its ``timezone`` (dates for all-day events), the zone is always set, and the RRULE is in
canonical form. Every problem is collected so that the user sees them all at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from calendar_service.dates import NonexistentLocalTime, to_local, zone
from calendar_service.errors import ValidationFailed, validation_errors
from calendar_service.models import EventIn, Recurrence
from calendar_service.recurrence import RecurrenceError, normalise_rrule
from calendar_service.settings import Settings


def normalise_event(
    event: EventIn, *, default_timezone: str, default_language: str, max_occurrences: int
) -> EventIn:
    """The canonical form of ``event``; ``ValidationFailed`` listing each faulty field."""
    errors: list[dict[str, str]] = []

    def fail(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    tz_name = event.timezone or default_timezone
    tz = zone(tz_name)
    changes: dict[str, Any] = {"timezone": tz_name}

    if default_language not in event.title:
        fail("title", f"a title in the default language ({default_language}) is required")

    def moment(value: datetime | date, field: str) -> datetime | date | None:
        if event.all_day:
            if isinstance(value, datetime):
                fail(field, "an all-day event takes a date such as 2027-06-12, not a time")
                return None
            return value
        if not isinstance(value, datetime):
            fail(field, "give a date and time such as 2027-05-04T18:30:00, or set all_day")
            return None
        try:
            return to_local(value, tz)
        except NonexistentLocalTime as exc:
            fail(field, str(exc))
            return None

    start = moment(event.start, "start")
    end = moment(event.end, "end") if event.end is not None else None
    if event.all_day and event.end is None:
        end = start
    if start is not None and end is not None and end < start:
        fail("end", "the end is before the start")
    changes["start"], changes["end"] = start, end

    if event.recurrence is not None and start is not None:
        changes["recurrence"] = _recurrence(
            event.recurrence,
            start,
            tz,
            all_day=event.all_day,
            fail=fail,
            moment=moment,
            max_occurrences=max_occurrences,
        )

    if event.attendance_mode in ("online", "mixed") and not event.online_url:
        fail("online_url", f"an {event.attendance_mode} event needs its online_url")
    if event.location is not None and (event.location.lat is None) != (event.location.lon is None):
        fail(
            "location.lat" if event.location.lat is None else "location.lon",
            "give both lat and lon",
        )
    audience = event.audience
    if audience and audience.min_age is not None and audience.max_age is not None:
        if audience.min_age > audience.max_age:
            fail("audience.max_age", "max_age is below min_age")
    if (
        event.image is not None
        and not event.image.decorative
        and not event.image.alt.get(default_language)
    ):
        fail(
            "image.alt",
            "describe the image for people who cannot see it (alt text), or mark it decorative",
        )

    if errors:
        raise ValidationFailed(
            f"{len(errors)} field{'s' if len(errors) > 1 else ''} to correct", errors=errors
        )
    return event.model_copy(update=changes)


def _recurrence(
    recurrence: Recurrence,
    start: datetime | date,
    tz: ZoneInfo,
    *,
    all_day: bool,
    fail: Callable[[str, str], None],
    moment: Callable[[datetime | date, str], datetime | date | None],
    max_occurrences: int,
) -> Recurrence | None:
    rule = recurrence.rrule
    if rule:
        try:
            rule = normalise_rrule(rule, start, tz, all_day=all_day, cap=max_occurrences)
        except RecurrenceError as exc:
            fail("recurrence.rrule", str(exc))
    rdates = [moment(v, f"recurrence.rdates[{i}]") for i, v in enumerate(recurrence.rdates)]
    exdates = [moment(v, f"recurrence.exdates[{i}]") for i, v in enumerate(recurrence.exdates)]
    if not rule and not rdates:
        return None
    return Recurrence(
        rrule=rule or None,
        rdates=sorted({v for v in rdates if v is not None}, key=_sort_key),
        exdates=sorted({v for v in exdates if v is not None}, key=_sort_key),
    )


def _sort_key(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())


READ_ONLY = ("id", "sequence", "created_at", "updated_at", "published_at", "links", "deleted")


def parse_event(data: Any, settings: Settings) -> EventIn:
    """Validate a client's event into its canonical form.

    422 lists every faulty field: first shapes and types (pydantic), then, once those are right,
    the checks across fields (times, time zones, recurrence).
    """
    if isinstance(data, dict):
        read_only = [
            {"field": name, "message": "read-only: set by the service"}
            for name in READ_ONLY
            if name in data
        ]
        if read_only:
            raise ValidationFailed("the body sets read-only fields", errors=read_only)
    try:
        event = EventIn.model_validate(
            data,
            context={
                "default_language": settings.default_language,
                "languages": settings.languages,
            },
        )
    except ValidationError as exc:
        errors = validation_errors(exc)
        raise ValidationFailed(
            f"{len(errors)} field{'s' if len(errors) > 1 else ''} to correct", errors=errors
        ) from None
    return normalise_event(
        event,
        default_timezone=settings.default_timezone,
        default_language=settings.default_language,
        max_occurrences=settings.max_occurrences,
    )
