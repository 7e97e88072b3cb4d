"""Reading iCalendar files from other calendars into event documents (pure, no I/O).

Exports of Google Calendar, Outlook and Thunderbird each have their habits: Google names the
calendar's zone in X-WR-TIMEZONE and writes UTC times, Outlook names zones the Windows way
("Romance Standard Time"), old Thunderbird prefixes zones with "/mozilla.org/...". Each event
becomes an ``EventIn`` document, or a rejection with its reason. A changed occurrence of a series
(RECURRENCE-ID) becomes an EXDATE of the series plus an event of its own; a cancelled one, an
EXDATE.
"""

from __future__ import annotations

import contextlib
import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import x_wr_timezone
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from calendar_service.db.events import fold, slugify
from calendar_service.vocabulary import CATEGORIES

MARKS = {
    f"[{label}] ": status
    for status in ("cancelled", "postponed")
    for label in {"cancelled": ("ANNULÉ", "CANCELLED"), "postponed": ("REPORTÉ", "POSTPONED")}[
        status
    ]
}


class ImportFileError(ValueError):
    """The file is not an iCalendar file at all."""


@dataclass
class ImportItem:
    """One event found in the file: its document, or why it cannot be taken."""

    uid: str
    title: str
    sequence: int
    modified_us: int | None
    document: dict[str, Any] | None
    error: str | None = None


def resolve_zone(tzid: str | None, default: str) -> str:
    """The IANA name for a TZID as calendars write it; ``ValueError`` when none fits."""
    if not tzid:
        return default
    name = tzid.strip().strip('"')
    candidates = [name, WINDOWS_TO_OLSON.get(name, "")]
    # "/mozilla.org/20050126_1/Europe/Paris", "/freeassociation.sourceforge.net/Tzfile/..."
    match = re.search(r"([A-Za-z_]+/[A-Za-z_+\-]+(?:/[A-Za-z_+\-]+)?)$", name)
    if match:
        candidates.append(match.group(1))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        return candidate
    raise ValueError(f"unknown time zone {tzid!r}")


@functools.lru_cache(maxsize=64)
def _matching_zone(offsets: tuple[int, ...], preferred: str) -> str | None:
    """An IANA zone with these UTC offsets at the sample instants (the default zone first)."""
    for name in [preferred, *sorted(zoneinfo.available_timezones())]:
        tz = zoneinfo.ZoneInfo(name)
        if all(
            _seconds(moment.astimezone(tz).utcoffset()) == offset
            for moment, offset in zip(_SAMPLES, offsets, strict=True)
        ):
            return name
    return None


def _seconds(delta: timedelta | None) -> int:
    return int(delta.total_seconds()) if delta is not None else 0


# Two years of instants, every fortnight: enough to tell zones and their DST rules apart.
_SAMPLES = tuple(datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=14 * i) for i in range(53))


def zone_from_definition(value: datetime, default: str) -> str | None:
    """For a TZID no name table knows, the IANA zone its VTIMEZONE behaves like."""
    if value.tzinfo is None:
        return None
    offsets = tuple(_seconds(m.astimezone(value.tzinfo).utcoffset()) for m in _SAMPLES)
    return _matching_zone(offsets, default)


def _tzid(prop: Any) -> str | None:
    params = getattr(prop, "params", {}) or {}
    value = params.get("TZID")
    return str(value) if value else None


def _local(value: date | datetime, zone_name: str) -> date | datetime:
    """A DTSTART-like value as a naive wall time (or a date) in ``zone_name``."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        # A date, a floating time, or a TZID the parser could not attach: the wall time stands.
        return value
    return value.astimezone(zoneinfo.ZoneInfo(zone_name)).replace(tzinfo=None)


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _text(component: icalendar.Component, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return str(value).strip()


def _dates(component: icalendar.Component, name: str, zone_name: str) -> list[date | datetime]:
    values = component.get(name)
    if values is None:
        return []
    found: list[date | datetime] = []
    for prop in values if isinstance(values, list) else [values]:
        for item in prop.dts:
            found.append(_local(item.dt, zone_name))
    return found


def _category_and_tags(component: icalendar.Component) -> tuple[str, list[str]]:
    names: list[str] = []
    values = component.get("categories")
    for prop in values if isinstance(values, list) else [values] if values is not None else []:
        names.extend(str(c) for c in getattr(prop, "cats", []) or [])
    labels = {fold(label): key for key, texts in CATEGORIES.items() for label in texts.values()}
    labels.update({key: key for key in CATEGORIES})
    category = "autre"
    tags: list[str] = []
    for name in names:
        key = labels.get(fold(name.strip()))
        if key and category == "autre":
            category = key
        else:
            tag = slugify(name)[:50]
            if tag and tag not in tags:
                tags.append(tag)
    return category, tags[:20]


def _modified_us(component: icalendar.Component) -> int | None:
    for name in ("last-modified", "dtstamp"):
        prop = component.get(name)
        if prop is not None and isinstance(prop.dt, datetime):
            moment = prop.dt if prop.dt.tzinfo else prop.dt.replace(tzinfo=UTC)
            return int(moment.timestamp() * 1_000_000)
    return None


def _http(value: str) -> str | None:
    return value if value.startswith(("http://", "https://")) else None


def _document(component: icalendar.Component, *, default_timezone: str, uid: str) -> dict[str, Any]:
    """The event document of one VEVENT (``ValueError`` with a reason when it has none)."""
    title = _text(component, "summary")
    if not title:
        raise ValueError("no SUMMARY (the event needs a title)")
    start_prop = component.get("dtstart")
    if start_prop is None:
        raise ValueError("no DTSTART")
    start_value = start_prop.dt
    all_day = not isinstance(start_value, datetime)
    try:
        zone_name = resolve_zone(_tzid(start_prop), default_timezone)
    except ValueError:
        # "Customized Time Zone" and the like: judge the zone by its VTIMEZONE's rules.
        found = zone_from_definition(start_value, default_timezone)
        if found is None:
            raise
        zone_name = found
    if (
        isinstance(start_value, datetime)
        and start_value.tzinfo is not None
        and not _tzid(start_prop)
    ):
        zone_name = default_timezone  # a UTC time: shown in the calendar's own zone
    start = _local(start_value, zone_name)
    end: date | datetime | None = None
    end_prop = component.get("dtend")
    if end_prop is not None:
        end = _local(end_prop.dt, zone_name)
    elif component.get("duration") is not None:
        end = start + component.decoded("duration")
    if all_day:
        # iCalendar's end date is exclusive; ours is the last day.
        end = (end - timedelta(days=1)) if isinstance(end, date) and end > start else start
        if isinstance(end, datetime):
            end = end.date()
    document: dict[str, Any] = {
        "uid": uid,
        "title": title[:300],
        "start": _iso(start),
        "end": _iso(end) if end is not None else None,
        "all_day": all_day,
        "timezone": zone_name,
        "state": "published",
    }
    description = _text(component, "description")
    if description:
        document["description"] = description
    rrule = component.get("rrule")
    rdates = _dates(component, "rdate", zone_name)
    exdates = _dates(component, "exdate", zone_name)
    if rrule is not None or rdates:
        document["recurrence"] = {
            "rrule": rrule.to_ical().decode() if rrule is not None else None,
            "rdates": [_iso(v) for v in rdates],
            "exdates": [_iso(v) for v in exdates],
        }
    place = _text(component, "location")
    geo = component.get("geo")
    if place or geo is not None:
        location: dict[str, Any] = {"name": place[:200]} if place else {}
        if geo is not None:
            location.update(lat=float(geo.latitude), lon=float(geo.longitude))
        document["location"] = location
    url = _http(_text(component, "url"))
    if url:
        document["url"] = url
    conference = _http(_text(component, "conference"))
    if conference:
        document["online_url"] = conference
        document["attendance_mode"] = "mixed" if place else "online"
    status = _text(component, "status").upper()
    document["status"] = "cancelled" if status == "CANCELLED" else "scheduled"
    # Our own feeds mark the title too ("[ANNULÉ] ..."), for clients that hide STATUS.
    for mark, meaning in MARKS.items():
        if title.startswith(mark):
            document["title"] = title.removeprefix(mark).strip()[:300] or title
            if meaning == "postponed" or status == "CANCELLED":
                document["status"] = meaning
    document["category"], document["tags"] = _category_and_tags(component)
    organizer = component.get("organizer")
    if organizer is not None:
        address = str(organizer)
        name = str(organizer.params.get("CN", "")).strip() or address.removeprefix("mailto:")
        document["organizer"] = {"name": name[:200]}
        if address.lower().startswith("mailto:") and "@" in address:
            document["organizer"]["email"] = address[7:]
        elif _http(address):
            document["organizer"]["url"] = address
    image = _http(_text(component, "image"))
    if image:
        document["image"] = {"url": image, "alt": title[:300]}
    return document


def parse_calendar(data: bytes, *, default_timezone: str) -> list[ImportItem]:
    """Every event of an iCalendar file, as documents or rejections, in file order."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise ImportFileError(f"not an iCalendar file: {exc}") from None
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise ImportFileError("not an iCalendar file: no VCALENDAR")
    # An unknown X-WR-TIMEZONE leaves the times as written.
    with contextlib.suppress(ValueError, zoneinfo.ZoneInfoNotFoundError):
        calendar = x_wr_timezone.to_standard(calendar)
    masters: dict[str, icalendar.Component] = {}
    overrides: list[icalendar.Component] = []
    items: list[ImportItem] = []
    for component in calendar.walk("VEVENT"):
        uid = _text(component, "uid")
        if component.get("recurrence-id") is not None:
            overrides.append(component)
        elif uid:
            masters[uid] = component
        else:
            items.append(ImportItem("", _text(component, "summary"), 0, None, None, "no UID"))
    extra_exdates: dict[str, list[Any]] = {}
    moved: list[tuple[str, icalendar.Component]] = []
    for component in overrides:
        uid = _text(component, "uid")
        extra_exdates.setdefault(uid, []).append(component.get("recurrence-id"))
        if _text(component, "status").upper() != "CANCELLED":
            moved.append((uid, component))
    for uid, component in masters.items():
        items.append(_item(component, uid, default_timezone, extra_exdates.get(uid, [])))
    for uid, component in moved:
        recurrence_id = component.get("recurrence-id").to_ical().decode()
        own_uid = f"{uid}-{re.sub(r'[^0-9A-Za-z]', '', recurrence_id)}"[:255]
        for name in ("rrule", "rdate", "exdate", "recurrence-id"):
            component.pop(name, None)
        master = masters.get(uid)
        if master is not None:
            for name in ("summary", "description", "location", "geo", "url", "organizer"):
                if component.get(name) is None and master.get(name) is not None:
                    component[name] = master[name]
        items.append(_item(component, own_uid, default_timezone, []))
    return items


def _item(
    component: icalendar.Component, uid: str, default_timezone: str, exdates: list[Any]
) -> ImportItem:
    title = _text(component, "summary")
    sequence_prop = component.get("sequence")
    sequence = int(sequence_prop) if sequence_prop is not None else 0
    item = ImportItem(uid, title, sequence, _modified_us(component), None)
    try:
        document = _document(component, default_timezone=default_timezone, uid=uid)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        item.error = str(exc) or type(exc).__name__
        return item
    if exdates:
        recurrence = document.setdefault("recurrence", {"rrule": None, "rdates": [], "exdates": []})
        zone_name = document["timezone"]
        for prop in exdates:
            recurrence["exdates"].append(_iso(_local(prop.dt, zone_name)))
    item.document = document
    return item
