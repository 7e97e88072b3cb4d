"""Subscribable iCalendar feeds, the single-event file, and the list of feeds."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.cache import Rendered, RenderedCache
from calendar_service.dates import END_OF_TIME, epoch, utc_now, zone
from calendar_service.db.connection import Storage
from calendar_service.db.feeds import FeedItem, event_item, feed_items
from calendar_service.errors import NotFound
from calendar_service.feedspec import FeedDefinition
from calendar_service.render.ical import CalendarHeader, render_calendar, tzid_of
from calendar_service.settings import Settings
from calendar_service.web.cached import cache_key, cached_response, local_today
from calendar_service.web.inputs import QueryReader, feed_filter, named_feed, narrow, public_event
from calendar_service.web.responses import json_response
from calendar_service.zones import accepted_zones

logger = logging.getLogger(__name__)
ICS_TYPE = "text/calendar; charset=utf-8"
ZONE_YEARS_AHEAD = 10
# vobject compares a VTIMEZONE with UTC over 2000-2020 (see ``_zones``).
LOOKS_LIKE_UTC_UNTIL = 1999


def shareable(items: list[FeedItem]) -> list[FeedItem]:
    """The items whose time zone calendars share. An event stored by an older version with a
    zone refused now (``Factory``, ``posix/...``) is left out of feeds, with a log line, rather
    than sent with a TZID each client would read its own way."""
    accepted = accepted_zones()
    kept = [item for item in items if item.timezone in accepted]
    if len(kept) < len(items):
        refused = sorted({item.timezone for item in items} - accepted)
        logger.warning("left out of a feed: events in the time zones %s", ", ".join(refused))
    return kept


def _zones(items: list[FeedItem], now: datetime) -> dict[str, tuple[int, int]]:
    """Each TZID used, with the years its VTIMEZONE must cover."""
    horizon = now.year + ZONE_YEARS_AHEAD
    bounds: dict[str, list[int]] = {}
    for item in items:
        found = bounds.get(item.timezone)
        if found is None:
            bounds[item.timezone] = [item.start_ts, item.last_end_ts]
        else:
            found[0] = min(found[0], item.start_ts)
            found[1] = max(found[1], item.last_end_ts)
    spans: dict[str, tuple[int, int]] = {}
    for name, (first_ts, last_ts) in bounds.items():
        tz = zone(name)
        first = datetime.fromtimestamp(first_ts, tz).year - 1
        last = horizon if last_ts >= END_OF_TIME else datetime.fromtimestamp(last_ts, tz).year
        if first > LOOKS_LIKE_UTC_UNTIL and _summer_time_from_gmt(tz):
            # vobject (and Radicale, which uses it) takes a zone whose offset is 0 from 2000 to
            # 2020 for UTC and then misreads its summer time: show it those years' changes.
            first = LOOKS_LIKE_UTC_UNTIL
        tzid = tzid_of(name)
        low, high = spans.get(tzid, (first, last))
        spans[tzid] = (min(low, first), min(max(high, last), horizon))
    return spans


def _summer_time_from_gmt(tz: ZoneInfo) -> bool:
    """Whether the zone's winter offset is 0 (London, Lisbon, the Canaries) and it changes its
    clocks."""
    winter = datetime(2000, 1, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    summer = datetime(2000, 7, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    now = datetime(2026, 7, 1, tzinfo=UTC).astimezone(tz).utcoffset()
    return winter == timedelta(0) and (summer != winter or now != winter)


def _last_modified(items: list[FeedItem], floor: datetime) -> datetime:
    newest = max((i.updated_us for i in items), default=0)
    return max(datetime.fromtimestamp(newest / 1_000_000, UTC), floor)


def _context(request: Request) -> tuple[Settings, Storage, RenderedCache]:
    state = request.app.state
    return state.settings, state.storage, state.rendered


async def feed_ics(request: Request) -> Response:
    settings, storage, cache = _context(request)
    feed = named_feed(request)
    slug = feed.slug
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    flt = narrow(feed_filter(feed), reader)
    reader.check()
    today = local_today(settings)
    key = cache_key(request.url.path, request.url.query, today)

    async def build(version: int) -> Rendered:
        # Retention moves once a day, so a feed is the same all day for one version.
        day_start = datetime.combine(today, datetime.min.time(), zone(settings.default_timezone))
        items = shareable(
            await feed_items(
                storage,
                flt=flt,
                lang=lang,
                past_cutoff_ts=epoch(day_start - timedelta(days=feed.keep_past_days)),
                cancelled_cutoff_us=epoch(day_start - timedelta(days=feed.keep_cancelled_days))
                * 1_000_000,
            )
        )
        header = CalendarHeader(
            name=feed.text(feed.title, lang, settings.default_language),
            description=feed.text(feed.description, lang, settings.default_language),
            refresh_minutes=feed.refresh_minutes,
            source_url=f"{settings.base_url}/feeds/{slug}.ics",
            color=feed.color,
            organisation=settings.organisation_name,
            language=lang,
        )
        body = render_calendar(
            header, zones=_zones(items, utc_now()), vevents=(i.vevent for i in items)
        )
        return Rendered.build(
            version=version,
            body=body,
            last_modified=_last_modified(items, day_start),
            headers={
                "Content-Type": ICS_TYPE,
                "Cache-Control": f"public, max-age={min(feed.refresh_minutes * 60, 900)}",
                "Content-Disposition": f'inline; filename="{slug}.ics"',
            },
        )

    return await cached_response(request, await cache.get(storage, key, build))


async def event_ics(request: Request) -> Response:
    """One event as a calendar file ("add to my calendar")."""
    settings, storage, cache = _context(request)
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    reader.check()
    key = request.path_params["key"]

    async def build(version: int) -> Rendered:
        # Looked up inside the build: a warm request touches no database.
        event = await public_event(storage, key)
        item = await event_item(storage, event_id=event.id, lang=lang)
        if item is None:
            raise NotFound(f"no calendar file for event {key!r} yet")
        if not shareable([item]):
            raise NotFound(
                f"event {key!r} has no calendar file: its time zone {item.timezone!r} is not one "
                "calendars share (an editor must choose another)"
            )
        title = event.document["title"]
        header = CalendarHeader(
            name=title.get(lang) or title.get(settings.default_language) or event.slug,
            description="",
            refresh_minutes=24 * 60,
            source_url=f"{settings.base_url}/events/{event.slug}.ics",
            color="#b4235a",
            organisation=settings.organisation_name,
            language=lang,
        )
        body = render_calendar(header, zones=_zones([item], utc_now()), vevents=[item.vevent])
        return Rendered.build(
            version=version,
            body=body,
            last_modified=_last_modified([item], datetime.fromtimestamp(0, UTC)),
            headers={
                "Content-Type": ICS_TYPE,
                "Cache-Control": "public, max-age=300",
                "Content-Disposition": f'attachment; filename="{event.slug}.ics"',
            },
        )

    cached = cache_key(request.url.path, request.url.query, local_today(settings))
    return await cached_response(request, await cache.get(storage, cached, build))


def feed_links(feed: FeedDefinition, settings: Settings, lang: str | None) -> dict[str, Any]:
    """Every way to reach a feed: https, webcal, a Google Calendar subscribe link, RSS and JSON
    Feed for e-mail tools, and its newsletter digest."""
    https = f"{settings.base_url}/feeds/{feed.slug}.ics"
    if lang and lang != settings.default_language:
        https += "?" + urlencode({"lang": lang})
    parts = urlsplit(https)
    webcal = "webcal://" + parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    query = f"?{parts.query}" if parts.query else ""
    base = f"{settings.base_url}/feeds/{feed.slug}"
    return {
        "ics": https,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
        "rss": f"{base}.rss{query}",
        "json": f"{base}.json{query}",
        "newsletter": f"{settings.base_url}/newsletter/{feed.slug}.html{query}",
    }


async def list_feeds(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    feeds: dict[str, FeedDefinition] = request.app.state.feeds
    reader = QueryReader(request, settings)
    lang = reader.language()
    reader.check()
    shown = lang or settings.default_language
    items = [
        {
            "slug": feed.slug,
            "title": feed.text(feed.title, shown, settings.default_language)
            if lang
            else feed.title,
            "description": feed.text(feed.description, shown, settings.default_language)
            if lang
            else feed.description,
            "color": feed.color,
            "refresh_minutes": feed.refresh_minutes,
            "filter": feed.filter.model_dump(),
            "links": feed_links(feed, settings, lang),
        }
        for feed in feeds.values()
    ]
    return json_response({"items": items}, headers={"Cache-Control": "public, max-age=300"})


routes = [
    Route("/api/feeds", list_feeds, methods=["GET"]),
    Route("/feeds/{slug}.ics", feed_ics, methods=["GET"]),
    Route("/events/{key}.ics", event_ics, methods=["GET"]),
]
