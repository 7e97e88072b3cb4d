"""What the public pages show of events: list items, the event page's facts, its schema.org
JSON-LD, and "add to my calendar" links. Pure functions; the templates escape every text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson

from calendar_service.dates import from_epoch, zone
from calendar_service.db.events import StoredEvent
from calendar_service.media import views as media_views
from calendar_service.phrases import date_phrase, hours_phrase
from calendar_service.recurrence import occurrence_end
from calendar_service.recurrence_text import recurrence_phrase
from calendar_service.render.newsletter import (
    Brand,
    access_line,
    audience_line,
    people_sentence,
    pick_with_language,
    place_lines,
    when_phrase,
)
from calendar_service.text import markdown_to_html, markdown_to_text
from calendar_service.vocabulary import CATEGORIES, STATUSES

EVENT_STATUS = {
    "scheduled": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
    "postponed": "https://schema.org/EventPostponed",
    "rescheduled": "https://schema.org/EventRescheduled",
    "moved_online": "https://schema.org/EventMovedOnline",
    "full": "https://schema.org/EventScheduled",
}
ATTENDANCE = {
    "in_person": "https://schema.org/OfflineEventAttendanceMode",
    "online": "https://schema.org/OnlineEventAttendanceMode",
    "mixed": "https://schema.org/MixedEventAttendanceMode",
}
STATUS_NOTICE = {
    "fr": {
        "cancelled": "Cet événement est annulé.",
        "postponed": "Cet événement est reporté\u00a0; la nouvelle date sera annoncée.",
        "rescheduled": "Cet événement a une nouvelle date.",
        "moved_online": "Cet événement a lieu en ligne.",
        "full": "Cet événement est complet.",
    },
    "en": {
        "cancelled": "This event is cancelled.",
        "postponed": "This event is postponed; the new date will be announced.",
        "rescheduled": "This event has a new date.",
        "moved_online": "This event now takes place online.",
        "full": "This event is full.",
    },
}


def _text(texts: dict[str, str] | None, lang: str, default: str) -> tuple[str, str]:
    return pick_with_language(texts, lang, default)


def status_label(status: str, lang: str) -> str:
    labels = STATUSES[status]
    return labels.get(lang, labels["en"])


def _ours(url: str, brand: Brand) -> bool:
    """Whether ``url`` is served by this service (the only host our pages load from)."""
    own = brand.base_url + "/"
    return url.startswith((own, own.replace("http://", "https://", 1)))


def _https(url: str) -> str:
    return "https://" + url.removeprefix("http://") if url.startswith("http://") else url


def picture_view(image: Any, *, lang: str, brand: Brand, shown: int) -> dict[str, Any] | None:
    """An uploaded picture for a ``<picture>``: WebP and JPEG ``srcset``, a JPEG ``src`` near
    ``shown`` pixels wide with its true size, and its alt text ("" when decorative)."""
    if not media_views.uploaded(image):
        return None
    src = media_views.sized(brand.base_url, image, shown)
    alt, alt_lang = _text(image.get("alt"), lang, brand.default_language)
    return {
        "src": src.url,
        "width": src.width,
        "height": src.height,
        "srcset_webp": media_views.srcset(brand.base_url, image, "webp"),
        "srcset_jpeg": media_views.srcset(brand.base_url, image, "jpg"),
        "alt": "" if image.get("decorative") else alt,
        "alt_lang": alt_lang,
    }


def _social(image: Any, *, lang: str, brand: Brand) -> dict[str, Any]:
    """The OpenGraph / Twitter card picture: the 1200x630 crop around the focal point."""
    social = media_views.crop(brand.base_url, image, "social")
    alt, _ = _text(image.get("alt"), lang, brand.default_language)
    return {
        "url": social.url,
        "width": social.width,
        "height": social.height,
        "type": social.content_type,
        "alt": "" if image.get("decorative") else alt,
    }


def occurrence_item(
    event: StoredEvent, start_ts: int, end_ts: int, *, lang: str, brand: Brand
) -> dict[str, Any]:
    """One occurrence in a list of upcoming events (home page, embed)."""
    doc = event.document
    default = brand.default_language
    title, title_lang = _text(doc["title"], lang, default)
    summary, summary_lang = _text(doc.get("summary"), lang, default)
    note, note_lang = _text(doc.get("status_note"), lang, default)
    tz = zone(doc["timezone"])
    start = from_epoch(start_ts, tz)
    online = doc["attendance_mode"] != "in_person"
    place = (
        ""
        if doc["attendance_mode"] == "online"
        else ", ".join(
            x
            for x in (
                (doc.get("location") or {}).get("name"),
                (doc.get("location") or {}).get("city"),
            )
            if x
        )
    )
    return {
        "title": title,
        "title_lang": title_lang,
        "summary": summary,
        "summary_lang": summary_lang,
        "datetime": start.date().isoformat() if doc["all_day"] else start.isoformat(),
        "when": when_phrase(
            doc, [(start_ts, end_ts)], lang=lang, default_timezone=brand.default_timezone
        ),
        "place": place,
        "online": online,
        "status": doc["status"],
        "status_label": status_label(doc["status"], lang) if doc["status"] != "scheduled" else "",
        "status_note": note,
        "status_note_lang": note_lang,
        "category": CATEGORIES[doc["category"]].get(lang, CATEGORIES[doc["category"]]["en"]),
        "page_url": f"{brand.base_url}/events/{event.slug}"
        + (f"?lang={lang}" if lang != default else ""),
        "ics_url": f"{brand.base_url}/events/{event.slug}.ics"
        + (f"?lang={lang}" if lang != default else ""),
        "picture": picture_view(doc.get("image"), lang=lang, brand=brand, shown=640),
    }


def _utc_stamp(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")


def google_recurrence(doc: dict[str, Any], last_ts: int | None) -> str:
    """The ``recur`` of a Google Calendar link for a series that starts at its next date: the
    RRULE (a COUNT, which would count again from that date, becomes the UNTIL of the true last
    start) and the EXDATE and RDATE lines, in the event's zone (the link's ``ctz``)."""
    recurrence = doc.get("recurrence") or {}
    rule = recurrence.get("rrule")
    if not rule:
        return ""
    parts = [p for p in rule.split(";") if not p.startswith("COUNT=")]
    if len(parts) < len(rule.split(";")) and last_ts is not None:
        parts.append(f"UNTIL={_utc_stamp(last_ts)}")
    lines = ["RRULE:" + ";".join(parts)]
    all_day = bool(doc["all_day"])
    for name in ("exdates", "rdates"):
        values = recurrence.get(name) or []
        if not values:
            continue
        if all_day:
            stamps = [v.replace("-", "")[:8] for v in values]
            lines.append(f"{name[:-1].upper()};VALUE=DATE:{','.join(stamps)}")
        else:
            stamps = [datetime.fromisoformat(v).strftime("%Y%m%dT%H%M%S") for v in values]
            lines.append(f"{name[:-1].upper()};TZID={doc['timezone']}:{','.join(stamps)}")
    return "\n".join(lines)


def calendar_links(
    event: StoredEvent,
    start_ts: int,
    end_ts: int,
    *,
    lang: str,
    brand: Brand,
    last_ts: int | None = None,
) -> dict[str, Any]:
    """ "Add to my calendar": the event's .ics, and prefilled Google Calendar and Outlook forms
    for its next occurrence (plain links: nothing is loaded from them until one is followed).
    Google's carries a series' rule (``recur``); Outlook's forms cannot repeat, which the page
    says (``repeats``)."""
    doc = event.document
    default = brand.default_language
    title, _ = _text(doc["title"], lang, default)
    summary, _ = _text(doc.get("summary"), lang, default)
    page = f"{brand.base_url}/events/{event.slug}"
    details = "\n\n".join(x for x in (summary, page) if x)
    location = ", ".join(place_lines(doc)) or (doc.get("online_url") or "")
    tz = zone(doc["timezone"])
    if doc["all_day"]:
        first = from_epoch(start_ts, tz).date()
        last = from_epoch(end_ts, tz).date() if end_ts > start_ts else first + timedelta(days=1)
        google_dates = f"{first:%Y%m%d}/{last:%Y%m%d}"
        outlook = {"startdt": first.isoformat(), "enddt": last.isoformat(), "allday": "true"}
    else:
        end = end_ts if end_ts > start_ts else start_ts + 3600
        google_dates = f"{_utc_stamp(start_ts)}/{_utc_stamp(end)}"
        outlook = {
            "startdt": datetime.fromtimestamp(start_ts, UTC).isoformat().replace("+00:00", "Z"),
            "enddt": datetime.fromtimestamp(end, UTC).isoformat().replace("+00:00", "Z"),
        }
    recur = google_recurrence(doc, last_ts)
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": title,
            "dates": google_dates,
            "details": details,
            "location": location,
            "ctz": doc["timezone"],
            **({"recur": recur} if recur else {}),
        }
    )
    outlook_url = "https://outlook.live.com/calendar/0/action/compose?" + urlencode(
        {"rru": "addevent", "subject": title, "body": details, "location": location, **outlook}
    )
    return {
        "ics": f"{brand.base_url}/events/{event.slug}.ics"
        + (f"?lang={lang}" if lang != default else ""),
        "google": google,
        "outlook": outlook_url,
        "repeats": bool(doc.get("recurrence")),
    }


def map_url(doc: dict[str, Any]) -> str | None:
    """A plain OpenStreetMap link to the place's coordinates (no embedded map, no tracker)."""
    location = doc.get("location") or {}
    lat, lon = location.get("lat"), location.get("lon")
    if lat is None or lon is None:
        return None
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"
    )


def _iso(ts: int, tz_name: str, all_day: bool) -> str:
    moment = from_epoch(ts, zone(tz_name))
    return moment.date().isoformat() if all_day else moment.isoformat()


def event_jsonld(
    event: StoredEvent, start_ts: int, end_ts: int, *, lang: str, brand: Brand
) -> dict[str, Any]:
    """schema.org ``Event`` for search engines and link previews."""
    doc = event.document
    default = brand.default_language
    title, _ = _text(doc["title"], lang, default)
    summary, _ = _text(doc.get("summary"), lang, default)
    description, _ = _text(doc.get("description"), lang, default)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": title,
        "url": f"{brand.base_url}/events/{event.slug}",
        "startDate": _iso(start_ts, doc["timezone"], doc["all_day"]),
        "eventStatus": EVENT_STATUS[doc["status"]],
        "eventAttendanceMode": ATTENDANCE[doc["attendance_mode"]],
        "inLanguage": lang,
    }
    if doc.get("end") is not None:
        last = end_ts - 86_400 if doc["all_day"] else end_ts
        data["endDate"] = _iso(max(last, start_ts), doc["timezone"], doc["all_day"])
    text = summary or " ".join(markdown_to_text(description).split())
    if text:
        data["description"] = text[:500]
    places: list[dict[str, Any]] = []
    location = doc.get("location") or {}
    if doc["attendance_mode"] != "online" and location:
        place: dict[str, Any] = {"@type": "Place", "name": location.get("name") or ""}
        address = {
            "@type": "PostalAddress",
            "streetAddress": location.get("address"),
            "postalCode": location.get("postal_code"),
            "addressLocality": location.get("city"),
            "addressCountry": location.get("country"),
        }
        place["address"] = {k: v for k, v in address.items() if v}
        if location.get("lat") is not None and location.get("lon") is not None:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": location["lat"],
                "longitude": location["lon"],
            }
        places.append(place)
    if doc["attendance_mode"] != "in_person" and doc.get("online_url"):
        places.append({"@type": "VirtualLocation", "url": doc["online_url"]})
    if places:
        data["location"] = places[0] if len(places) == 1 else places
    organizer = doc.get("organizer")
    if organizer:
        data["organizer"] = {
            "@type": "Organization",
            "name": organizer["name"],
            **({"url": organizer["url"]} if organizer.get("url") else {}),
        }
    price, _ = _text(doc.get("price"), lang, default)
    if price or doc.get("registration_url"):
        offer: dict[str, Any] = {
            "@type": "Offer",
            "url": doc.get("registration_url") or data["url"],
        }
        if price:
            offer["description"] = price
        data["offers"] = offer
    image = doc.get("image")
    if media_views.uploaded(image):
        # The three ratios search engines ask for, around the editor's focal point.
        data["image"] = [
            media_views.crop(brand.base_url, image, ratio).url for ratio in ("16x9", "4x3", "1x1")
        ]
    elif image and image.get("url"):
        data["image"] = [_https(image["url"])]
    return data


def jsonld_script(data: dict[str, Any]) -> str:
    """JSON for a ``<script type="application/ld+json">``: no ``</script>`` can close it early."""
    text = orjson.dumps(data).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _series(
    doc: dict[str, Any], times: tuple[tuple[int, int], ...], last_ts: int | None, lang: str
) -> dict[str, Any]:
    """A series' words on its page: its repeat ("chaque jeudi de 14 h à 17 h, jusqu'au 24 juin
    2027, sauf les 24 et 31 décembre 2026") and its upcoming dates, one by one."""
    if not doc.get("recurrence"):
        return {"repeats": "", "dates": []}
    tz = zone(doc["timezone"])
    all_day = bool(doc["all_day"])
    first_start = datetime.fromisoformat(str(doc["start"]))
    hours = ""
    if not all_day:
        first_end = occurrence_end(first_start, first_start, _naive(doc.get("end")))
        hours = hours_phrase(first_start, first_end if doc.get("end") else None, lang)
    last = from_epoch(last_ts, tz).date() if last_ts is not None else None
    repeats = recurrence_phrase(doc, lang, last=last, hours=hours)
    dates = []
    for start_ts, end_ts in times:
        start = from_epoch(start_ts, tz)
        if all_day:
            shown = date_phrase(start.date(), None, all_day=True, lang=lang)
        else:
            end = from_epoch(end_ts, tz).replace(tzinfo=None) if doc.get("end") else None
            shown = date_phrase(start.replace(tzinfo=None), end, all_day=False, lang=lang)
        dates.append({"datetime": _iso(start_ts, doc["timezone"], all_day), "text": shown})
    return {"repeats": repeats[:1].upper() + repeats[1:], "dates": dates}


def _naive(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def event_page_view(
    event: StoredEvent,
    times: tuple[tuple[int, int], ...],
    more_until_ts: int | None,
    *,
    lang: str,
    brand: Brand,
    last_ts: int | None = None,
    ahead: tuple[tuple[int, int], ...] = (),
    more: bool = False,
) -> dict[str, Any]:
    """Everything the public event page shows. ``times`` are the next dates the date phrase
    names, ``ahead`` every upcoming date the page lists, ``last_ts`` the start of a series'
    true last occurrence (``None`` without end) and ``more`` whether dates follow ``ahead``."""
    doc = event.document
    default = brand.default_language
    title, title_lang = _text(doc["title"], lang, default)
    summary, summary_lang = _text(doc.get("summary"), lang, default)
    description, description_lang = _text(doc.get("description"), lang, default)
    price, price_lang = _text(doc.get("price"), lang, default)
    start_ts, end_ts = times[0]
    image = doc.get("image")
    uploaded = picture_view(image, lang=lang, brand=brand, shown=1024)
    alt, _ = _text((image or {}).get("alt"), lang, default)
    image_view = (
        {
            "url": _https(image["url"]),
            "alt": alt,
            "width": image.get("width"),
            "height": image.get("height"),
        }
        if image and image.get("url")
        else None
    )
    status = doc["status"]
    note, note_lang = _text(doc.get("status_note"), lang, default)
    partners = [{"name": p["name"], "url": p.get("url")} for p in doc.get("partners") or []]
    return {
        "title": title,
        "title_lang": title_lang,
        "summary": summary,
        "summary_lang": summary_lang,
        "description_html": markdown_to_html(description) if description else "",
        "description_lang": description_lang,
        "when": when_phrase(
            doc,
            times,
            lang=lang,
            default_timezone=brand.default_timezone,
            more_until_ts=more_until_ts,
            more=more_until_ts is None and len(ahead) > len(times),
        ),
        **_series(doc, ahead, last_ts, lang),
        "more_dates": more,
        "datetime": _iso(start_ts, doc["timezone"], doc["all_day"]),
        "status": status,
        "status_label": status_label(status, lang) if status != "scheduled" else "",
        "status_notice": STATUS_NOTICE.get(lang, STATUS_NOTICE["en"]).get(status, ""),
        "status_note": note,
        "status_note_lang": note_lang,
        "category": CATEGORIES[doc["category"]].get(lang, CATEGORIES[doc["category"]]["en"]),
        "place": place_lines(doc) if doc["attendance_mode"] != "online" else [],
        "online_url": doc.get("online_url") if doc["attendance_mode"] != "in_person" else None,
        "map_url": map_url(doc) if doc["attendance_mode"] != "online" else None,
        "people": people_sentence(doc, lang),
        "organizer": doc.get("organizer"),
        "partners": partners,
        "price": price,
        "price_lang": price_lang,
        "extras": [
            x for x in (access_line(doc, lang, default), audience_line(doc, lang, default)) if x
        ],
        "url": doc.get("url"),
        "registration_url": doc.get("registration_url"),
        # Pictures hosted elsewhere are linked, not loaded: our pages make no request to
        # another site (the visitor follows the link if they wish).
        "picture": uploaded,
        "social": _social(image, lang=lang, brand=brand) if uploaded else None,
        "image": image_view if image_view and _ours(image_view["url"], brand) else None,
        "image_link": image_view if image_view and not _ours(image_view["url"], brand) else None,
        "calendar": calendar_links(
            event, start_ts, end_ts, lang=lang, brand=brand, last_ts=last_ts
        ),
        "jsonld": jsonld_script(event_jsonld(event, start_ts, end_ts, lang=lang, brand=brand)),
        "canonical": f"{brand.base_url}/events/{event.slug}",
        "tags": doc.get("tags") or [],
    }
