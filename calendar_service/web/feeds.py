"""Subscribable iCalendar feeds, the single-event file, and the list of feeds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from calendar_service.cache import Rendered, RenderedCache
from calendar_service.dates import END_OF_TIME, epoch, utc_now, zone
from calendar_service.db import events as store
from calendar_service.db.connection import Storage
from calendar_service.db.feeds import FeedItem, event_item, feed_items
from calendar_service.errors import Gone, NotFound
from calendar_service.feedspec import FeedDefinition
from calendar_service.render.ical import CalendarHeader, render_calendar
from calendar_service.settings import Settings
from calendar_service.web.api import json_response
from calendar_service.web.inputs import QueryReader, feed_filter, narrow

ICS_TYPE = "text/calendar; charset=utf-8"
ZONE_YEARS_AHEAD = 10


def _zones(items: list[FeedItem], now: datetime) -> dict[str, tuple[int, int]]:
    """Each time zone used, with the years its VTIMEZONE must cover."""
    horizon = now.year + ZONE_YEARS_AHEAD
    spans: dict[str, tuple[int, int]] = {}
    for item in items:
        if item.timezone in ("UTC", "Etc/UTC"):
            continue
        tz = zone(item.timezone)
        first = datetime.fromtimestamp(item.start_ts, tz).year - 1
        end = min(item.last_end_ts, END_OF_TIME)
        last = datetime.fromtimestamp(end, tz).year if end < END_OF_TIME else horizon
        low, high = spans.get(item.timezone, (first, last))
        spans[item.timezone] = (min(low, first), max(high, min(last, horizon)))
    return spans


def _last_modified(items: list[FeedItem], floor: datetime) -> datetime:
    newest = max((i.updated_us for i in items), default=0)
    return max(datetime.fromtimestamp(newest / 1_000_000, UTC), floor)


def ics_answer(
    entry: Rendered,
    *,
    accept_encoding: str,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for a cached calendar file: 304 when the client's copy is
    current, gzip when the client takes it."""
    accepts_gzip = "gzip" in accept_encoding.lower()
    headers = {
        **entry.headers,
        "Content-Type": ICS_TYPE,
        "ETag": entry.gzip_etag if accepts_gzip else entry.etag,
        "Last-Modified": entry.last_modified_http,
        "Vary": "Accept-Encoding",
    }
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if "*" in tags or entry.etag in tags or entry.gzip_etag in tags:
            return 304, headers, b""
    elif if_modified_since:
        try:
            if entry.last_modified <= parsedate_to_datetime(if_modified_since):
                return 304, headers, b""
        except (TypeError, ValueError):
            pass  # an unreadable date is ignored, as RFC 9110 asks
    if accepts_gzip:
        headers["Content-Encoding"] = "gzip"
        return 200, headers, entry.gzipped
    return 200, headers, entry.body


def ics_response(request: Request, entry: Rendered) -> Response:
    status, headers, body = ics_answer(
        entry,
        accept_encoding=request.headers.get("accept-encoding", ""),
        if_none_match=request.headers.get("if-none-match"),
        if_modified_since=request.headers.get("if-modified-since"),
    )
    return Response(body, status, headers)


def cache_key(path: str, query: str, today: date) -> tuple[str, str, date]:
    """The cache key of a calendar file: its path and query, and the day (retention moves daily)."""
    return (path, "&".join(sorted(query.split("&"))) if query else "", today)


def local_today(settings: Settings) -> date:
    return utc_now().astimezone(zone(settings.default_timezone)).date()


class CachedCalendars:
    """Serves warm calendar files before routing and middleware: a cached feed or event file
    at the current content version, or its 304, costs a dictionary lookup. Anything else (a
    cold entry, a browser's CORS request) goes on to the application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self._cached(scope) if _is_calendar_read(scope) else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = answer
        # What the CORS path would say: the answer differs for browsers' cross-origin reads.
        headers["Vary"] = "Accept-Encoding, Origin"
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if status == 200:
            raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        bare = scope["method"] == "HEAD" or status == 304
        await send({"type": "http.response.body", "body": b"" if bare else body})

    async def _cached(self, scope: Scope) -> tuple[int, dict[str, str], bytes] | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if "origin" in headers:
            return None
        state = scope["app"].state
        query = scope["query_string"].decode("latin-1")
        key = cache_key(scope["path"], query, local_today(state.settings))
        entry = await state.rendered.peek(state.storage, key)
        if entry is None:
            return None
        return ics_answer(
            entry,
            accept_encoding=headers.get("accept-encoding", ""),
            if_none_match=headers.get("if-none-match"),
            if_modified_since=headers.get("if-modified-since"),
        )


def _is_calendar_read(scope: Scope) -> bool:
    path = scope.get("path", "")
    return (
        scope["type"] == "http"
        and scope["method"] in ("GET", "HEAD")
        and path.endswith(".ics")
        and path.startswith(("/feeds/", "/events/"))
    )


def _context(request: Request) -> tuple[Settings, Storage, RenderedCache]:
    state = request.app.state
    return state.settings, state.storage, state.rendered


async def feed_ics(request: Request) -> Response:
    settings, storage, cache = _context(request)
    feeds: dict[str, FeedDefinition] = request.app.state.feeds
    slug = request.path_params["slug"]
    feed = feeds.get(slug)
    if feed is None:
        raise NotFound(f"no feed {slug!r}; see /api/feeds")
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    flt = narrow(feed_filter(feed), reader)
    reader.check()
    today = local_today(settings)
    key = cache_key(request.url.path, request.url.query, today)

    async def build(version: int) -> Rendered:
        # Retention moves once a day, so a feed is the same all day for one version.
        day_start = datetime.combine(today, datetime.min.time(), zone(settings.default_timezone))
        items = await feed_items(
            storage,
            flt=flt,
            lang=lang,
            past_cutoff_ts=epoch(day_start - timedelta(days=feed.keep_past_days)),
            cancelled_cutoff_us=epoch(day_start - timedelta(days=feed.keep_cancelled_days))
            * 1_000_000,
        )
        header = CalendarHeader(
            name=feed.text(feed.title, lang, settings.default_language),
            description=feed.text(feed.description, lang, settings.default_language),
            timezone=settings.default_timezone,
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
                "Cache-Control": f"public, max-age={min(feed.refresh_minutes * 60, 900)}",
                "Content-Disposition": f'inline; filename="{slug}.ics"',
            },
        )

    return ics_response(request, await cache.get(storage, key, build))


async def event_ics(request: Request) -> Response:
    """One event as a calendar file ("add to my calendar")."""
    settings, storage, cache = _context(request)
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    reader.check()
    key = request.path_params["key"]

    async def build(version: int) -> Rendered:
        # Looked up inside the build: a warm request touches no database.
        event = await store.get_event(storage, key=key)
        if event is None or event.state != "published":
            raise NotFound(f"no event {key!r}")
        if event.deleted_us is not None:
            raise Gone(f"event {key!r} was deleted")
        item = await event_item(storage, event_id=event.id, lang=lang)
        if item is None:
            raise NotFound(f"no calendar file for event {key!r} yet")
        title = event.document["title"]
        header = CalendarHeader(
            name=title.get(lang) or title.get(settings.default_language) or event.slug,
            description="",
            timezone=event.document["timezone"],
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
                "Cache-Control": "public, max-age=300",
                "Content-Disposition": f'attachment; filename="{event.slug}.ics"',
            },
        )

    cached = cache_key(request.url.path, request.url.query, local_today(settings))
    return ics_response(request, await cache.get(storage, cached, build))


def feed_links(feed: FeedDefinition, settings: Settings, lang: str | None) -> dict[str, Any]:
    """Every way to reach a feed: https, webcal, a Google Calendar subscribe link."""
    https = f"{settings.base_url}/feeds/{feed.slug}.ics"
    if lang and lang != settings.default_language:
        https += "?" + urlencode({"lang": lang})
    parts = urlsplit(https)
    webcal = "webcal://" + parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    return {
        "ics": https,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
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
