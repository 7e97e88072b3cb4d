"""Newsletter blocks and digests over HTTP, cached like the feeds; the preview page lives in
``web/public/preview.py``."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.cache import Rendered
from calendar_service.dates import parse_moment, utc_now
from calendar_service.db.listings import EventFilter
from calendar_service.digests import (
    BLOCK_DAYS,
    GROUPINGS,
    Entry,
    Grouping,
    render_digest,
    upcoming_times,
)
from calendar_service.errors import NotFound
from calendar_service.feedspec import FeedDefinition
from calendar_service.phrases import MAX_LISTED_DATES
from calendar_service.render.newsletter import FORMATS, MEDIA_TYPES, Format
from calendar_service.settings import Settings
from calendar_service.web.cached import cache_key, cached_response, local_today
from calendar_service.web.inputs import QueryReader, feed_filter, named_feed, narrow, public_event

CACHE_CONTROL = "public, max-age=300"


def _format(request: Request) -> Format:
    fmt = request.path_params["fmt"]
    for known in FORMATS:
        if fmt == known:
            return known
    raise NotFound(f"no format {fmt!r}: ask for .html, .txt or .md")


def _day(reader: QueryReader, name: str) -> date | None:
    raw = reader.params.get(name)
    if raw is None or raw == "":
        return None
    try:
        moment = parse_moment(raw, what="date")
    except ValueError:
        reader.fail(name, f"{raw!r} is not a day: write it as 2027-05-04")
        return None
    if isinstance(moment, datetime):
        reader.fail(name, "give a day, such as 2027-05-04 (the digest covers whole days)")
        return None
    return moment


def digest_window(reader: QueryReader, settings: Settings, today: date) -> tuple[date, date]:
    """``from`` and ``to`` as days, both included: from today for ``newsletter_days`` unless
    told otherwise; refused when reversed or longer than ``max_window_days``."""
    first = _day(reader, "from") or today
    last = _day(reader, "to") or first + timedelta(days=settings.newsletter_days - 1)
    if last < first:
        reader.fail("to", f"{last.isoformat()} is before {first.isoformat()}")
    elif (last - first).days + 1 > settings.max_window_days:
        reader.fail("to", f"a digest covers at most {settings.max_window_days} days")
    return first, last


def grouping(reader: QueryReader) -> Grouping:
    raw = reader.params.get("group") or "day"
    for known in GROUPINGS:
        if raw == known:
            return known
    reader.fail("group", f"unknown grouping {raw!r}; use day or category")
    return "day"


def _rendered(text: str, *, version: int, fmt: Format, filename: str) -> Rendered:
    return Rendered.build(
        version=version,
        body=text.encode(),
        last_modified=datetime.now(UTC),
        headers={
            "Content-Type": MEDIA_TYPES[fmt],
            "Cache-Control": CACHE_CONTROL,
            "Content-Disposition": f'inline; filename="{filename}.{fmt}"',
            "X-Content-Type-Options": "nosniff",
            # A block opened on its own runs nothing and loads only images.
            "Content-Security-Policy": "default-src 'none'; img-src https: http:; style-src "
            "'unsafe-inline'; frame-ancestors 'self'",
        },
    )


async def digest(request: Request) -> Response:
    """``GET /newsletter/{feed}.{html,txt,md}?from=&to=&lang=&group=``."""
    state = request.app.state
    settings: Settings = state.settings
    fmt = _format(request)
    feed = named_feed(request, "feed")
    slug = feed.slug
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    today = local_today(settings)
    first, last = digest_window(reader, settings, today)
    group = grouping(reader)
    flt = narrow(feed_filter(feed), reader)
    reader.check()

    key = cache_key(request.url.path, request.url.query, today)
    entry = await digest_entry(
        request,
        key=key,
        slug=slug,
        flt=flt,
        first=first,
        last=last,
        lang=lang,
        group=group,
        fmt=fmt,
    )
    return await cached_response(request, entry)


async def digest_entry(
    request: Request,
    *,
    key: Hashable,
    slug: str,
    flt: EventFilter,
    first: date,
    last: date,
    lang: str,
    group: Grouping,
    fmt: Format,
) -> Rendered:
    """A digest from the rendering cache, rendered if it is not there at this version."""
    state = request.app.state
    settings: Settings = state.settings
    feed: FeedDefinition = state.feeds[slug]

    async def build(version: int) -> Rendered:
        text = await render_digest(
            state.storage,
            settings=settings,
            templates=state.templates,
            blocks=state.blocks,
            flt=flt,
            feed_slug=slug,
            feed_title=feed.text(feed.title, lang, settings.default_language),
            first=first,
            last=last,
            lang=lang,
            group=group,
            fmt=fmt,
        )
        return _rendered(text, version=version, fmt=fmt, filename=f"{slug}-{first}")

    entry: Rendered = await state.rendered.get(state.storage, key, build)
    return entry


async def event_block(request: Request) -> Response:
    """``GET /newsletter/events/{id or slug}.{html,txt,md}?lang=``: one event's block, with its
    next dates."""
    state = request.app.state
    settings: Settings = state.settings
    fmt = _format(request)
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    reader.check()
    key = request.path_params["key"]

    async def build(version: int) -> Rendered:
        event = await public_event(state.storage, key)
        times, more = upcoming_times(
            event,
            now=utc_now(),
            days=BLOCK_DAYS,
            cap=settings.max_occurrences,
            listed=MAX_LISTED_DATES,
        )
        text = state.blocks.block(
            state.templates,
            Entry(event, times, more),
            lang=lang,
            fmt=fmt,
            heading=2,
            with_description=True,
        )
        return _rendered(text, version=version, fmt=fmt, filename=event.slug)

    cached = cache_key(request.url.path, request.url.query, local_today(settings))
    return await cached_response(request, await state.rendered.get(state.storage, cached, build))


routes = [
    Route("/newsletter/events/{key}.{fmt}", event_block, methods=["GET"]),
    Route("/newsletter/{feed}.{fmt}", digest, methods=["GET"]),
]
