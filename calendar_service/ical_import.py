"""Reading iCalendar files from other calendars into event documents (pure, no I/O).

Exports of Google Calendar, Outlook and Thunderbird each have their habits: Google names the
calendar's zone in X-WR-TIMEZONE and writes UTC times, Outlook names zones the Windows way
("Romance Standard Time"), old Thunderbird prefixes zones with "/mozilla.org/...". Each event
becomes an ``EventIn`` document, or a rejection with its reason. A changed occurrence of a series
(RECURRENCE-ID) becomes an EXDATE of the series plus an event of its own; a cancelled one, an
EXDATE.

Files come from anywhere, so every value is read as hostile: an event with a value that cannot
be read (a SEQUENCE that is not a small whole number, a DURATION of centuries, a year outside
``dates.FIRST_YEAR``..``dates.LAST_YEAR``, a zone calendars do not share) is rejected with its
reason and the others are read; a harmless property that cannot be read (DTSTAMP,
LAST-MODIFIED) is ignored. A file that is not iCalendar at all raises ``ImportFileError``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar

from calendar_service.dates import FIRST_YEAR, LAST_YEAR
from calendar_service.db.events import slugify
from calendar_service.db.search import fold
from calendar_service.ical_file import Block, ImportFileError, Rejected, split_calendar
from calendar_service.ical_zones import FileZones
from calendar_service.models import EventIn
from calendar_service.vocabulary import CATEGORIES

__all__ = ["ImportFileError", "ImportItem", "parse_calendar"]

MARKS = {
    f"[{label}] ": status
    for status in ("cancelled", "postponed")
    for label in {"cancelled": ("ANNULÉ", "CANCELLED"), "postponed": ("REPORTÉ", "POSTPONED")}[
        status
    ]
}
# SEQUENCE counts the revisions of an event. The stored column has 32 bits, and each later
# edit here adds one: a billion leaves room, and no calendar counts that far.
MAX_SEQUENCE = 1_000_000_000


@dataclass
class ImportItem:
    """One event found in the file: its document, or why it cannot be taken.

    ``event`` is the document once validated (``imports.read_calendar``); ``None`` before.
    """

    uid: str
    title: str
    sequence: int
    modified_us: int | None
    document: dict[str, Any] | None
    error: str | None = None
    event: EventIn | None = None


def _one(component: icalendar.Component, name: str) -> Any:
    """The property ``name`` (``None`` when absent); ``Rejected`` when it is given twice."""
    value = component.get(name)
    if isinstance(value, list):
        raise Rejected(f"{name.upper()} is given more than once")
    return value


def _tzid(prop: Any) -> str | None:
    params = getattr(prop, "params", {}) or {}
    value = params.get("TZID")
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _in_range(value: date, name: str) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise Rejected(f"{name}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")


def _value(prop: Any, name: str) -> date | datetime:
    """The date or date-time of a DTSTART-like property, its year in range."""
    try:
        value = prop.dt
    except Exception:  # icalendar's vBroken raises on access; the reason names the property
        raise Rejected(f"{name} cannot be read as a date or a date-time") from None
    if not isinstance(value, date):
        raise Rejected(f"{name} is not a date or a date-time")
    _in_range(value, name)
    return value


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _text(component: icalendar.Component, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return str(value).strip()


def _dates(
    component: icalendar.Component, name: str, zone_name: str, zones: FileZones
) -> list[date | datetime]:
    """The dates of every RDATE or EXDATE line; a PERIOD counts by its start."""
    values = component.get(name)
    if values is None:
        return []
    found: list[date | datetime] = []
    label = name.upper()
    for prop in values if isinstance(values, list) else [values]:
        try:
            items = [item.dt for item in prop.dts]
        except Exception:  # a vBroken list
            raise Rejected(f"{label} cannot be read as dates or date-times") from None
        for item in items:
            # RDATE;VALUE=PERIOD: the occurrence begins at the period's start; the series'
            # duration stands for its length (an event here has one duration).
            value = item[0] if isinstance(item, tuple) else item
            if not isinstance(value, date):
                raise Rejected(f"{label} holds a value that is not a date or a date-time")
            _in_range(value, label)
            found.append(zones.local(value, _tzid(prop), zone_name))
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
    for name in names[:100]:
        key = labels.get(fold(name.strip()[:100]))
        if key and category == "autre":
            category = key
        else:
            tag = slugify(name[:100])[:50]
            if tag and tag not in tags:
                tags.append(tag)
    return category, tags[:20]


def _modified_us(component: icalendar.Component) -> int | None:
    """LAST-MODIFIED, else DTSTAMP, in microseconds; one that cannot be read is ignored."""
    for name in ("last-modified", "dtstamp"):
        prop = component.get(name)
        if isinstance(prop, list):
            prop = prop[0]
        try:
            moment = prop.dt if prop is not None else None
        except Exception:  # a vBroken value: only used to order versions, so left out
            continue
        if isinstance(moment, datetime) and FIRST_YEAR <= moment.year <= LAST_YEAR:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return int(moment.timestamp() * 1_000_000)
    return None


def _sequence(component: icalendar.Component) -> int:
    prop = _one(component, "sequence")
    if prop is None:
        return 0
    try:
        value = int(prop)
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= MAX_SEQUENCE:
        raise Rejected(f"SEQUENCE must be a whole number from 0 to {MAX_SEQUENCE:,}")
    return value


def _http(value: str) -> str | None:
    return value if value.startswith(("http://", "https://")) else None


def _end(
    component: icalendar.Component, start: date | datetime, zone_name: str, zones: FileZones
) -> date | datetime | None:
    end_prop = _one(component, "dtend")
    if end_prop is not None:
        return zones.local(_value(end_prop, "DTEND"), _tzid(end_prop), zone_name)
    duration_prop = _one(component, "duration")
    if duration_prop is None:
        return None
    try:
        duration = duration_prop.dt
    except Exception:  # a vBroken value
        raise Rejected("DURATION cannot be read as a duration") from None
    if not isinstance(duration, timedelta):
        raise Rejected("DURATION is not a duration")
    try:
        end = start + duration
    except OverflowError:
        raise Rejected("DURATION is too long") from None
    _in_range(end, "DURATION")
    return end


def _document(component: icalendar.Component, *, zones: FileZones, uid: str) -> dict[str, Any]:
    """The event document of one VEVENT (``Rejected`` with the reason when it has none)."""
    title = _text(component, "summary")
    if not title:
        raise Rejected("no SUMMARY (the event needs a title)")
    start_prop = _one(component, "dtstart")
    if start_prop is None:
        raise Rejected("no DTSTART")
    start_value = _value(start_prop, "DTSTART")
    all_day = not isinstance(start_value, datetime)
    zone_name = zones.of(_tzid(start_prop))
    if (
        isinstance(start_value, datetime)
        and not _tzid(start_prop)
        and start_value.utcoffset() == timedelta(0)
        and start_value.tzinfo is not None
        and component.get("rrule") is not None
    ):
        # A series written in UTC (DTSTART:…Z) repeats at the same UTC time: read in the
        # calendar's zone it would move by an hour when the clocks change.
        zone_name = "UTC"
    start = zones.local(start_value, _tzid(start_prop), zone_name)
    end = _end(component, start, zone_name, zones)
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
    rrule = _one(component, "rrule")
    rdates = _dates(component, "rdate", zone_name, zones)
    exdates = _dates(component, "exdate", zone_name, zones)
    if rrule is not None or rdates:
        document["recurrence"] = {
            "rrule": rrule.to_ical().decode().replace("\\", "") if rrule is not None else None,
            "rdates": [_iso(v) for v in rdates],
            "exdates": [_iso(v) for v in exdates],
        }
    place = _text(component, "location")
    geo = _one(component, "geo")
    if place or geo is not None:
        location: dict[str, Any] = {"name": place[:200]} if place else {}
        if geo is not None:
            try:
                location.update(lat=float(geo.latitude), lon=float(geo.longitude))
            except Exception:  # a vBroken value
                raise Rejected("GEO is not a latitude and a longitude") from None
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
    if isinstance(organizer, list):
        organizer = organizer[0]
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


def _read_event(block: Block) -> icalendar.Component:
    """One VEVENT read by icalendar, without the components inside it (alarms: not imported)."""
    try:
        component = icalendar.Event.from_ical(block.text(depth=0))
    except Exception:  # whatever icalendar raises, this event alone is lost
        raise Rejected(f"the event on line {block.line} cannot be read") from None
    if any(name is None for name, _ in component.errors):
        raise Rejected(f"the event on line {block.line} has a line that is not NAME:VALUE")
    return component


def parse_calendar(data: bytes, *, default_timezone: str) -> list[ImportItem]:
    """Every event of an iCalendar file, as documents or rejections, in file order (the moved
    occurrences of series last).

    ``ImportFileError`` when the file is not iCalendar (``ical_file.split_calendar``).
    """
    with warnings.catch_warnings():
        # icalendar warns when it guesses a zone behind a vendor prefix; the names are mapped
        # here (ical_zones), and a warning must not stop a file.
        warnings.simplefilter("ignore")
        return _parse(data, default_timezone)


def _parse(data: bytes, default_timezone: str) -> list[ImportItem]:
    calendar = split_calendar(data)
    zones = FileZones(calendar, default_timezone)
    masters: dict[str, icalendar.Component] = {}
    overrides: list[tuple[str, icalendar.Component, Any]] = []
    order: list[ImportItem | str] = []  # an item, or the UID of a master read below
    for block in calendar.children:
        if block.name != "VEVENT":
            continue
        try:
            component = _read_event(block)
            uid = _text(component, "uid")
            recurrence_id = _one(component, "recurrence-id")
            if recurrence_id is not None:
                _value(recurrence_id, "RECURRENCE-ID")
        except Rejected as exc:
            uid = (block.value("UID") or "").strip()[:255]
            title = (block.value("SUMMARY") or "").strip()[:300]
            order.append(ImportItem(uid, title, 0, None, None, str(exc)))
            continue
        if recurrence_id is not None:
            overrides.append((uid, component, recurrence_id))
        elif uid:
            if uid not in masters:
                order.append(uid)
            masters[uid] = component  # the last of two events with one UID stands
        else:
            order.append(ImportItem("", _text(component, "summary")[:300], 0, None, None, "no UID"))
    extra_exdates: dict[str, list[Any]] = {}
    for uid, _, recurrence_id in overrides:
        extra_exdates.setdefault(uid, []).append(recurrence_id)
    items = [
        entry
        if isinstance(entry, ImportItem)
        else _item(masters[entry], entry, zones, extra_exdates.get(entry, []))
        for entry in order
    ]
    for uid, component, recurrence_id in overrides:
        if _text(component, "status").upper() == "CANCELLED":
            continue
        stamp = recurrence_id.to_ical().decode()
        own_uid = f"{uid}-{re.sub(r'[^0-9A-Za-z]', '', stamp)}"[:255]
        for name in ("rrule", "rdate", "exdate", "recurrence-id"):
            component.pop(name, None)
        master = masters.get(uid)
        if master is not None:
            for name in ("summary", "description", "location", "geo", "url", "organizer"):
                if component.get(name) is None and master.get(name) is not None:
                    component[name] = master[name]
        items.append(_item(component, own_uid, zones, []))
    return items


def _item(
    component: icalendar.Component, uid: str, zones: FileZones, exdates: list[Any]
) -> ImportItem:
    item = ImportItem(uid[:255], _text(component, "summary")[:300], 0, None, None)
    try:
        item.sequence = _sequence(component)
        item.modified_us = _modified_us(component)
        document = _document(component, zones=zones, uid=uid)
        if exdates:
            recurrence = document.setdefault(
                "recurrence", {"rrule": None, "rdates": [], "exdates": []}
            )
            zone_name = document["timezone"]
            for prop in exdates:
                value = _value(prop, "RECURRENCE-ID")
                recurrence["exdates"].append(_iso(zones.local(value, _tzid(prop), zone_name)))
    except Rejected as exc:
        item.error = str(exc)
        return item
    except Exception as exc:  # a value icalendar took that this code did not foresee:
        # one rejected event, never a failed import
        item.error = f"this event cannot be read ({type(exc).__name__})"
        return item
    item.document = document
    return item
