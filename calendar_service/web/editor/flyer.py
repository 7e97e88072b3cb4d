"""``GET /editor/events/{id}/flyer.{html,pdf}?size=a4|a5&lang=``: one event's flyer to print,
for its editors (linked from the event's editor page): its picture, next dates, place, price,
description and a QR code to its public page."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.dates import utc_now
from calendar_service.db import events as store
from calendar_service.digests import BLOCK_DAYS, Entry, upcoming_times
from calendar_service.errors import NotFound
from calendar_service.phrases import MAX_LISTED_DATES
from calendar_service.printing.programme import FLYER_WIDTH, SIZES, flyer_html
from calendar_service.settings import Settings
from calendar_service.web.editor.sessions import require_session
from calendar_service.web.inputs import QueryReader
from calendar_service.web.public.printing import printed, printed_pictures


async def flyer(request: Request) -> Response:
    await require_session(request)
    state = request.app.state
    settings: Settings = state.settings
    fmt = request.path_params["fmt"]
    raw = request.path_params["event_id"]
    if fmt not in ("html", "pdf") or not raw.isdigit():
        raise NotFound("a flyer is printed as .html or .pdf")
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    size = request.query_params.get("size", "a4")
    if size not in SIZES:
        reader.fail("size", f"unknown size {size[:20]!r}; use a4 or a5")
    reader.check()
    event = await store.get_event(state.storage, key=raw)
    if event is None or event.deleted_us is not None:
        raise NotFound(f"no event {raw!r}")
    times, more = upcoming_times(
        event, now=utc_now(), days=BLOCK_DAYS, cap=settings.max_occurrences, listed=MAX_LISTED_DATES
    )
    pictures = await printed_pictures(state.media, [event], FLYER_WIDTH)
    html = await asyncio.to_thread(
        flyer_html,
        Entry(event, times, more),
        picture=pictures.get(event.id),
        brand=state.templates.brand,
        lang=lang,
        size=size,  # type: ignore[arg-type]
    )
    body = await state.pdf_slots.render(html) if fmt == "pdf" else html.encode()
    answer = printed(body, version=0, fmt=fmt, filename=f"{event.slug}-{size}")
    headers = {**answer.headers, "Cache-Control": "no-store"}
    return Response(answer.body, headers=headers)


routes = [Route("/editor/events/{event_id}/flyer.{fmt}", flyer, methods=["GET"])]
