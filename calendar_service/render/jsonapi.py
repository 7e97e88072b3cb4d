"""The JSON API's views of stored events: pure functions from records to plain dicts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from calendar_service.dates import from_epoch, with_offset, zone
from calendar_service.db.events import StoredEvent
from calendar_service.db.listings import StoredOccurrence
from calendar_service.media import views as media_views

LOCALIZED = ("title", "summary", "description", "price", "status_note")
NESTED_LOCALIZED = (("image", "alt"), ("accessibility", "note"), ("audience", "note"))


def pick(texts: dict[str, str] | None, lang: str | None, default_language: str) -> Any:
    """A text map as stored, or one language of it (falling back to the default, then any)."""
    if not texts:
        return None
    if lang is None:
        return texts
    return texts.get(lang) or texts.get(default_language) or next(iter(texts.values()))


def timestamp(us: int | None) -> str | None:
    """An epoch-microsecond timestamp as ISO 8601 UTC."""
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat().replace("+00:00", "Z")


def links(event: StoredEvent, base_url: str) -> dict[str, str]:
    return {
        "self": f"{base_url}/api/events/{event.id}",
        "page": f"{base_url}/events/{event.slug}",
        "ics": f"{base_url}/events/{event.slug}.ics",
        "blocks": f"{base_url}/newsletter/events/{event.slug}.html",
    }


def _moment(value: str | None, tz_name: str, all_day: bool) -> str | None:
    if value is None or all_day:
        return value
    return with_offset(datetime.fromisoformat(value), zone(tz_name))


def event_json(
    event: StoredEvent, *, lang: str | None, default_language: str, base_url: str
) -> dict[str, Any]:
    """The API representation of an event."""
    doc = dict(event.document)
    for name in LOCALIZED:
        doc[name] = pick(doc.get(name), lang, default_language)
    for outer, inner in NESTED_LOCALIZED:
        if doc.get(outer):
            doc[outer] = {**doc[outer], inner: pick(doc[outer].get(inner), lang, default_language)}
    doc["start"] = _moment(doc["start"], doc["timezone"], doc["all_day"])
    doc["end"] = _moment(doc.get("end"), doc["timezone"], doc["all_day"])
    return {
        "id": event.id,
        "uid": event.uid,
        "slug": event.slug,
        **doc,
        "state": event.state,
        "sequence": event.sequence,
        "created_at": timestamp(event.created_us),
        "updated_at": timestamp(event.updated_us),
        "published_at": timestamp(event.published_us),
        "links": links(event, base_url),
    }


def tombstone_json(event: StoredEvent) -> dict[str, Any]:
    """What a client syncing with ``updated_since`` learns of a deleted event."""
    return {
        "id": event.id,
        "uid": event.uid,
        "slug": event.slug,
        "deleted": True,
        "deleted_at": timestamp(event.deleted_us),
        "updated_at": timestamp(event.updated_us),
        "sequence": event.sequence,
    }


def occurrence_json(
    occurrence: StoredOccurrence, *, lang: str | None, default_language: str, base_url: str
) -> dict[str, Any]:
    """One occurrence with the display fields of its event."""
    event = occurrence.event
    doc = event.document
    tz = zone(doc["timezone"])
    all_day = bool(doc["all_day"])
    start = from_epoch(occurrence.start_ts, tz)
    end: str | None
    if all_day:
        first = date.fromisoformat(doc["start"])
        last = date.fromisoformat(doc["end"]) if doc.get("end") else first
        day = start.date()
        start_text, end = day.isoformat(), (day + (last - first)).isoformat()
    else:
        start_text = start.isoformat()
        end = from_epoch(occurrence.end_ts, tz).isoformat() if doc.get("end") is not None else None
    image = image_json(doc.get("image"), lang, default_language, base_url)
    return {
        "event_id": event.id,
        "uid": event.uid,
        "slug": event.slug,
        "start": start_text,
        "end": end,
        "all_day": all_day,
        "timezone": doc["timezone"],
        "status": doc["status"],
        "status_note": pick(doc.get("status_note"), lang, default_language),
        "title": pick(doc["title"], lang, default_language),
        "summary": pick(doc.get("summary"), lang, default_language),
        "category": doc["category"],
        "tags": doc["tags"],
        "location": doc.get("location"),
        "attendance_mode": doc["attendance_mode"],
        "online_url": doc.get("online_url"),
        "image": image,
        "recurring": doc.get("recurrence") is not None,
        "links": links(event, base_url),
    }


def image_json(
    image: Any, lang: str | None, default_language: str, base_url: str
) -> dict[str, Any] | None:
    """An event's picture for an API client (the widget's cards among them): an uploaded one
    gains the URLs of its files (``url``: a JPEG about 1024 pixels wide, and ``srcset`` in JPEG
    and WebP); ``width`` and ``height`` stay the picture's own."""
    if not image:
        return None
    out = {**image, "alt": pick(image.get("alt"), lang, default_language)}
    if media_views.uploaded(image):
        src = media_views.feed(base_url, image)
        out["url"] = src.url
        out["srcset"] = media_views.srcset(base_url, image, "jpg")
        out["srcset_webp"] = media_views.srcset(base_url, image, "webp")
    return out
