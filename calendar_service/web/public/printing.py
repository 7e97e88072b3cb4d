"""``GET /print/{feed}.{html,pdf}?from=&to=&lang=&group=``: a feed's programme to print (A4),
as a print-ready page or a PDF made by WeasyPrint. Cached like the digests (one build per
answer and content version); PDFs are made one at a time per process, each in a child process
under a deadline, from at most ``MAX_PRINTED`` events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.cache import Rendered
from calendar_service.db.events import StoredEvent
from calendar_service.digests import day_bounds, entries_in_window
from calendar_service.errors import BadRequest, NotFound, TooManyRequests
from calendar_service.media.store import MediaStore
from calendar_service.printing.pdf import render_pdf
from calendar_service.printing.programme import (
    PRINT_WIDTH,
    data_uri,
    picture_wanted,
    programme_html,
)
from calendar_service.settings import Settings
from calendar_service.web.cached import cache_key, cached_response, local_today
from calendar_service.web.inputs import QueryReader, feed_filter, named_feed, narrow
from calendar_service.web.public.newsletter import CACHE_CONTROL, digest_window, grouping

MAX_PRINTED = 150
# The page prints itself from what it holds: pictures and QR codes as data: URLs, its style
# inline; nothing else is loaded, nothing runs.
PAGE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"


class PdfSlots:
    """PDFs made one at a time per process (each takes most of a core for a moment), and at
    most ``waiting`` more waiting their turn: past that, 503 with Retry-After, so that a flood
    of different programmes cannot queue requests without end."""

    def __init__(self, parallel: int = 1, waiting: int = 8) -> None:
        self._slots = asyncio.Semaphore(parallel)
        self._parallel = parallel
        self._waiting = waiting
        self._asked = 0  # being made, or waiting

    async def render(self, html: str) -> bytes:
        if self._asked >= self._parallel + self._waiting:
            raise Busy("too many PDFs are being made; try again in a minute", retry_after=30)
        self._asked += 1
        try:
            async with self._slots:
                return await render_pdf(html)
        finally:
            self._asked -= 1


class Busy(TooManyRequests):
    """Every PDF slot and place in the queue is taken: 503, try again later."""

    status = 503
    title = "Busy"
    slug = "busy"


async def printed_pictures(
    store: MediaStore, events: list[StoredEvent], shown: int
) -> dict[int, str]:
    """The uploaded picture of each event, read from the store as a ``data:`` URL."""
    found: dict[int, str] = {}
    for event in events:
        wanted = picture_wanted(event, shown)
        if wanted is None:
            continue
        file = await store.read_file(*wanted)
        if file is not None:
            found[event.id] = data_uri(file.content_type, file.data)
    return found


def printed(body: bytes, *, version: int, fmt: str, filename: str) -> Rendered:
    """A printed answer, as the rendering cache keeps it."""
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{filename}.{fmt}"',
    }
    if fmt == "pdf":
        headers["Content-Type"] = "application/pdf"
    else:
        headers["Content-Type"] = "text/html; charset=utf-8"
        headers["Content-Security-Policy"] = PAGE_CSP
    return Rendered.build(
        version=version, body=body, last_modified=datetime.now(UTC), headers=headers
    )


async def programme(request: Request) -> Response:
    state = request.app.state
    settings: Settings = state.settings
    fmt = request.path_params["fmt"]
    if fmt not in ("html", "pdf"):
        raise NotFound("a programme is printed as .html or .pdf")
    feed = named_feed(request, "feed")
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    today = local_today(settings)
    first, last = digest_window(reader, settings, today)
    group = grouping(reader)
    flt = narrow(feed_filter(feed), reader)
    reader.check()

    async def build(version: int) -> Rendered:
        from_ts, to_ts = day_bounds(first, last, settings.default_timezone)
        entries = await entries_in_window(
            state.storage, flt=flt, from_ts=from_ts, to_ts=to_ts, cap=settings.max_occurrences
        )
        if len(entries) > MAX_PRINTED:
            message = (
                f"this window holds more than {MAX_PRINTED} events to print; "
                "choose a shorter window or a narrower feed"
            )
            raise BadRequest(message, errors=[{"field": "to", "message": message}])
        pictures = await printed_pictures(state.media, [e.event for e in entries], PRINT_WIDTH)
        html = await asyncio.to_thread(
            programme_html,
            entries,
            pictures=pictures,
            brand=state.templates.brand,
            lang=lang,
            feed_title=feed.text(feed.title, lang, settings.default_language),
            feed_slug=feed.slug,
            first=first,
            last=last,
            group=group,
        )
        body = await state.pdf_slots.render(html) if fmt == "pdf" else html.encode()
        return printed(body, version=version, fmt=fmt, filename=f"{feed.slug}-{first}")

    key = cache_key(request.url.path, request.url.query, today)
    return await cached_response(request, await state.rendered.get(state.storage, key, build))


routes = [Route("/print/{feed}.{fmt}", programme, methods=["GET"])]
