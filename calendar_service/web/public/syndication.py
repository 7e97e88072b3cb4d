"""``/feeds/{slug}.rss`` and ``/feeds/{slug}.json``: the named feeds for e-mail tools, cached
like the calendar files."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.cache import Rendered
from calendar_service.dates import utc_now
from calendar_service.digests import syndication_items
from calendar_service.render.emailhtml import neutralise_url
from calendar_service.render.syndication import ChannelInfo, render_json_feed, render_rss
from calendar_service.settings import Settings
from calendar_service.web.cached import (
    cache_key,
    cached_response,
    canonical_query,
    local_today,
)
from calendar_service.web.inputs import QueryReader, feed_filter, named_feed, narrow

MEDIA_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


async def syndication_feed(request: Request) -> Response:
    """A named feed as RSS 2.0 or JSON Feed 1.1 (``?lang=`` and the usual narrowing)."""
    state = request.app.state
    settings: Settings = state.settings
    kind = "rss" if request.url.path.endswith(".rss") else "json"
    feed = named_feed(request)
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    flt = narrow(feed_filter(feed), reader)
    reader.check()

    async def build(version: int) -> Rendered:
        now = utc_now()
        items = await syndication_items(
            state.storage,
            settings=settings,
            templates=state.templates,
            blocks=state.blocks,
            flt=flt,
            lang=lang,
            now=now,
        )
        # The query that made the cache key: the same entry answers every spelling of it.
        query = canonical_query(request.url.path, request.url.query)
        self_url = neutralise_url(
            f"{settings.base_url}{request.url.path}" + (f"?{query}" if query else "")
        )
        channel = ChannelInfo(
            title=feed.text(feed.title, lang, settings.default_language),
            description=feed.text(feed.description, lang, settings.default_language),
            language=lang,
            home_url=f"{settings.base_url}/",
            self_url=self_url,
            ttl_minutes=feed.refresh_minutes,
            built=now,
            organisation=settings.organisation_name,
            logo_url=settings.brand_logo_url,
        )
        body = render_rss(channel, items) if kind == "rss" else render_json_feed(channel, items)
        return Rendered.build(
            version=version,
            body=body,
            # Built when the content version (or the day) changed: a deletion changes it too.
            last_modified=now,
            headers={
                "Content-Type": MEDIA_TYPES[kind],
                "Cache-Control": f"public, max-age={min(feed.refresh_minutes * 60, 900)}",
                "X-Content-Type-Options": "nosniff",
            },
        )

    key = cache_key(request.url.path, request.url.query, local_today(settings))
    return await cached_response(request, await state.rendered.get(state.storage, key, build))


routes = [
    Route("/feeds/{slug}.rss", syndication_feed, methods=["GET"]),
    Route("/feeds/{slug}.json", syndication_feed, methods=["GET"]),
]
