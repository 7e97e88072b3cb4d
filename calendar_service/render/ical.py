"""iCalendar (RFC 5545 / RFC 7986) rendering: one VEVENT per event and language, and feeds.

VEVENTs are rendered with the ``icalendar`` library when an event is written, and stored; a feed
is a header, the VTIMEZONEs of the zones its events use, and the stored VEVENTs joined. Every
function here is pure.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar

from calendar_service.dates import zone
from calendar_service.db.events import Renderer, StoredEvent
from calendar_service.media import views as media_views
from calendar_service.render.newsletter import people_sentence
from calendar_service.render.vtimezone import vtimezone
from calendar_service.settings import Settings
from calendar_service.text import markdown_to_text
from calendar_service.vocabulary import CATEGORIES, STATUSES

# Bump when the rendering changes: stored VEVENTs of another version are rendered again by
# `calendar-service migrate` (and on `serve`).
RENDER_VERSION = 5
CRLF = "\r\n"

LABELS = {
    "more": {"fr": "En savoir plus", "en": "More information"},
    "register": {"fr": "Inscription", "en": "Registration"},
    "price": {"fr": "Tarif", "en": "Price"},
    "online": {"fr": "En ligne", "en": "Online"},
    "cancelled": {"fr": "ANNULÉ", "en": "CANCELLED"},
    "postponed": {"fr": "REPORTÉ", "en": "POSTPONED"},
}


def _label(name: str, lang: str) -> str:
    labels = LABELS[name]
    return labels.get(lang) or labels["en"]


# What some reader takes for the end of a line (Python's splitlines, which vobject uses, splits
# on all of these), and the other control characters no TEXT may hold.
_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")


class _Text(icalendar.vText):
    """TEXT escaped by RFC 5545 3.3.11 alone: a backslash typed before an N stays a backslash
    (icalendar 7 turns "\\N" into a line break); every line break, whatever its kind, becomes
    ``\\n``, so no text can start a line of its own (a forged property or component)."""

    def to_ical(self) -> bytes:
        value = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        value = _CONTROLS.sub("", _BREAKS.sub("\\\\n", value))
        return value.encode("utf-8")


def _one_line(text: str) -> str:
    """A parameter value (a CN) on one line, without the quotes that would end it."""
    return " ".join(_CONTROLS.sub("", _BREAKS.sub(" ", text)).replace('"', "'").split())


STATUS_MAP = {"cancelled": "CANCELLED", "postponed": "TENTATIVE"}


@dataclass(frozen=True)
class RenderContext:
    """What a VEVENT needs beyond the event: where the service lives and its languages."""

    base_url: str
    default_language: str
    languages: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> RenderContext:
        return cls(
            base_url=settings.base_url,
            default_language=settings.default_language,
            languages=tuple(settings.languages),
        )

    @property
    def key(self) -> str:
        """Identifies the rendering: stored VEVENTs made under another key are re-rendered."""
        raw = f"{RENDER_VERSION}|{self.base_url}|{self.default_language}|{','.join(self.languages)}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _pick(texts: dict[str, str] | None, lang: str, default: str) -> str:
    if not texts:
        return ""
    return texts.get(lang) or texts.get(default) or next(iter(texts.values()))


def _utc(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC).replace(microsecond=0)


def tzid_of(zone_name: str) -> str:
    """The TZID an event's zone is written with. UTC is written ``Etc/UTC`` with its VTIMEZONE,
    like every zone: icalendar writes "UTC" as a ``Z`` time (and drops it from RDATE/EXDATE),
    and Google and recurring-ical-events read a recurring ``Z`` time in the calendar's
    X-WR-TIMEZONE, moving it at that zone's clock changes."""
    return "Etc/UTC" if zone_name in ("UTC", "Etc/UTC") else zone_name


def _moment(value: str, tz_name: str, all_day: bool) -> date | datetime:
    """A stored date, or a stored wall time (naive, in ``tz_name``)."""
    if all_day:
        return date.fromisoformat(value[:10])
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone(tz_name)).replace(tzinfo=None)
    return moment


def _add_moments(
    vevent: icalendar.Event, name: str, values: Any, tz_name: str, *, all_day: bool
) -> None:
    """DTSTART, DTEND, RDATE or EXDATE as local times with their TZID, always: a zone with no
    offset (Africa/Abidjan, UTC) would otherwise be written as ``Z`` times."""
    if all_day:
        vevent.add(name, values)
    else:
        vevent.add(name, values, parameters={"TZID": tzid_of(tz_name)})


def page_url(event: StoredEvent, base_url: str) -> str:
    return f"{base_url}/events/{event.slug}"


def _location(doc: dict[str, Any], lang: str, default: str) -> str:
    place = doc.get("location")
    parts: list[str] = []
    if isinstance(place, dict):
        city = " ".join(str(p) for p in (place.get("postal_code"), place.get("city")) if p)
        parts = [str(p) for p in (place.get("name"), place.get("address")) if p]
        if city:
            parts.append(city)
    if doc.get("attendance_mode") in ("online", "mixed") and doc.get("online_url"):
        parts.append(
            f"{_label('online', lang)} : {doc['online_url']}"
            if lang == "fr"
            else f"{_label('online', lang)}: {doc['online_url']}"
        )
    return ", ".join(parts)


def _colon(lang: str) -> str:
    # French typography: a (no-break) space before the colon.
    return "\u00a0: " if lang == "fr" else ": "


def _description(doc: dict[str, Any], event: StoredEvent, lang: str, ctx: RenderContext) -> str:
    default = ctx.default_language
    blocks = []
    note = _pick(doc.get("status_note"), lang, default)
    if note:
        # What changed comes first: a subscriber reads it in the entry they already have.
        status = str(doc.get("status", "scheduled"))
        said = STATUSES[status].get(lang, STATUSES[status]["en"]) if status != "scheduled" else ""
        blocks.append(f"{said.upper()}{_colon(lang)}{note}" if said else note)
    summary = _pick(doc.get("summary"), lang, default)
    if summary:
        blocks.append(summary)
    body = markdown_to_text(_pick(doc.get("description"), lang, default))
    if body:
        blocks.append(body)
    facts = []
    people = people_sentence(doc, lang)  # "Organisé par …, avec …, au profit de …"
    if people:
        facts.append(people)
    price = _pick(doc.get("price"), lang, default)
    if price:
        facts.append(f"{_label('price', lang)}{_colon(lang)}{price}")
    if doc.get("registration_url"):
        facts.append(f"{_label('register', lang)}{_colon(lang)}{doc['registration_url']}")
    if facts:
        blocks.append("\n".join(facts))
    more = doc.get("url") or page_url(event, ctx.base_url)
    blocks.append(f"{_label('more', lang)}{_colon(lang)}{more}")
    return "\n\n".join(blocks)


def render_vevent(event: StoredEvent, *, lang: str, ctx: RenderContext) -> str:
    """The VEVENT of ``event`` in ``lang``: CRLF lines folded at 75 octets, ending in CRLF."""
    doc = event.document
    default = ctx.default_language
    tz_name = str(doc["timezone"])
    all_day = bool(doc["all_day"])
    status = "cancelled" if event.deleted_us is not None else str(doc["status"])
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", _utc(event.updated_us))
    vevent.add("created", _utc(event.created_us))
    vevent.add("last-modified", _utc(event.updated_us))
    vevent.add("sequence", event.sequence)
    start = _moment(str(doc["start"]), tz_name, all_day)
    _add_moments(vevent, "dtstart", start, tz_name, all_day=all_day)
    end_text = doc.get("end")
    if all_day:
        last = date.fromisoformat(str(end_text)) if end_text else start
        assert isinstance(last, date)
        vevent.add("dtend", last + timedelta(days=1))  # iCalendar's end is exclusive
    elif end_text:
        _add_moments(
            vevent, "dtend", _moment(str(end_text), tz_name, False), tz_name, all_day=False
        )
    recurrence = doc.get("recurrence")
    if isinstance(recurrence, dict):
        if recurrence.get("rrule"):
            vevent.add("rrule", icalendar.vRecur.from_ical(recurrence["rrule"]))
        for name in ("rdate", "exdate"):
            values = recurrence.get(f"{name}s")
            if values:
                moments = [_moment(v, tz_name, all_day) for v in values]
                _add_moments(vevent, name, moments, tz_name, all_day=all_day)
    title = _pick(doc["title"], lang, default)
    if status in ("cancelled", "postponed"):
        title = f"[{_label(status, lang)}] {title}"
    vevent.add("summary", _Text(title))
    vevent.add("description", _Text(_description(doc, event, lang, ctx)))
    location = _location(doc, lang, default)
    if location:
        vevent.add("location", _Text(location))
    place = doc.get("location")
    if isinstance(place, dict) and place.get("lat") is not None and place.get("lon") is not None:
        vevent.add("geo", (float(place["lat"]), float(place["lon"])))
    vevent.add("url", doc.get("url") or page_url(event, ctx.base_url))
    category = CATEGORIES[str(doc["category"])]
    vevent.add("categories", [category.get(lang, category["fr"]), *doc.get("tags", [])])
    vevent.add("status", STATUS_MAP.get(status, "CONFIRMED"))
    vevent.add("class", "PUBLIC")
    vevent.add("transp", "OPAQUE")
    organizer = doc.get("organizer")
    if isinstance(organizer, dict) and (organizer.get("email") or organizer.get("url")):
        address = f"mailto:{organizer['email']}" if organizer.get("email") else organizer["url"]
        vevent.add("organizer", address, parameters={"CN": _one_line(str(organizer["name"]))})
    image = doc.get("image")
    if media_views.uploaded(image):  # RFC 7986 IMAGE: our JPEG, with its type
        shown = media_views.feed(ctx.base_url, image)
        vevent.add(
            "image",
            shown.url,
            parameters={"VALUE": "URI", "DISPLAY": "BADGE", "FMTTYPE": shown.content_type},
        )
    elif isinstance(image, dict) and image.get("url"):
        vevent.add("image", image["url"], parameters={"VALUE": "URI", "DISPLAY": "BADGE"})
    if doc.get("online_url") and doc.get("attendance_mode") in ("online", "mixed"):
        vevent.add("conference", doc["online_url"], parameters={"VALUE": "URI", "FEATURE": "VIDEO"})
    return str(vevent.to_ical().decode("utf-8"))


def renderings(event: StoredEvent, ctx: RenderContext) -> tuple[str, dict[str, str]]:
    """The rendering key and the VEVENT of ``event`` in every language of the service."""
    return ctx.key, {lang: render_vevent(event, lang=lang, ctx=ctx) for lang in ctx.languages}


def renderer(ctx: RenderContext) -> Renderer:
    """What the store calls on every write to keep the stored VEVENTs current."""
    return functools.partial(renderings, ctx=ctx)


@dataclass(frozen=True)
class CalendarHeader:
    """The calendar-level properties of a feed."""

    name: str
    description: str
    refresh_minutes: int
    source_url: str
    color: str
    organisation: str
    language: str


def render_calendar(
    header: CalendarHeader, *, zones: dict[str, tuple[int, int]], vevents: Iterable[str]
) -> bytes:
    """A whole VCALENDAR from stored VEVENTs; ``zones`` maps each TZID to its year range."""
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    # Every TEXT goes through ``_Text``: a name is often an event's title (one event's file).
    organisation = _one_line(header.organisation).replace("/", "-")
    calendar.add(
        "prodid", _Text(f"-//{organisation}//Calendrier solidaire//{header.language.upper()}")
    )
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", _Text(header.name))
    calendar.add("x-wr-calname", _Text(header.name))
    if header.description:
        calendar.add("description", _Text(header.description))
        calendar.add("x-wr-caldesc", _Text(header.description))
    # No X-WR-TIMEZONE: every time carries its TZID, and Google and recurring-ical-events
    # read a recurring UTC time in X-WR-TIMEZONE's zone, moving it at that zone's clock changes.
    refresh = timedelta(minutes=header.refresh_minutes)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(refresh))
    calendar.add("source", header.source_url, parameters={"VALUE": "URI"})
    calendar.add("x-apple-calendar-color", _Text(header.color))
    head = calendar.to_ical().decode("utf-8")
    assert head.endswith("END:VCALENDAR" + CRLF)
    parts = [head[: -len("END:VCALENDAR" + CRLF)]]
    parts.extend(vtimezone(name, first, last) for name, (first, last) in sorted(zones.items()))
    parts.extend(vevents)
    parts.append("END:VCALENDAR" + CRLF)
    return "".join(parts).encode("utf-8")
