"""The public pages: the home page ``/`` and each event's page ``/events/{slug}``."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.cache import Rendered
from calendar_service.dates import utc_now, zone
from calendar_service.db.events import StoredEvent, last_occurrence_start
from calendar_service.db.listings import EventFilter
from calendar_service.digests import upcoming_times
from calendar_service.feedspec import FeedDefinition
from calendar_service.phrases import MAX_LISTED_DATES
from calendar_service.render.emailhtml import rewrite
from calendar_service.render.pages import event_page_view, occurrence_item
from calendar_service.resilience import render_each
from calendar_service.settings import Settings
from calendar_service.web.cached import cache_key, cached_response, local_today
from calendar_service.web.html import render_page, ui_language, upcoming
from calendar_service.web.inputs import QueryReader, public_event
from calendar_service.web.public.feeds import feed_links

# An event page lists a series' upcoming dates up to this many (the .ics has them all).
PAGE_DATES = 60
HOME_EVENTS = 12

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "upcoming": "Prochains événements",
        "none": "Aucun événement n'est prévu pour le moment.",
        "add": "Ajouter à mon agenda",
        "online": "En ligne",
        "feeds": "S'abonner aux agendas",
        "feeds_help": "Abonnez votre agenda (téléphone, Outlook, Thunderbird, Google Agenda) : "
        "les événements s'y ajoutent et s'y mettent à jour d'eux-mêmes.",
        "subscribe_webcal": "S'abonner",
        "subscribe_google": "Ajouter à Google Agenda",
        "subscribe_https": "Adresse du flux (.ics)",
        "share": "Diffuser l'agenda",
        "embed_link": "Intégrer l'agenda à un site partenaire",
        "newsletter_link": "Préparer l'agenda de la newsletter",
        "when": "Quand",
        "where": "Où",
        "map": "Voir sur la carte (OpenStreetMap)",
        "join_online": "Rejoindre l'événement en ligne",
        "price": "Tarif",
        "more": "Site de l'événement",
        "register": "S'inscrire",
        "add_ics": "Fichier agenda (.ics)",
        "add_google": "Google Agenda",
        "add_outlook": "Outlook",
        "about": "Présentation",
        "practical": "Infos pratiques",
        "back": "Tous les événements",
        "category": "Catégorie",
        "organised": "Organisation",
        "see_image": "Voir l'illustration (sur un autre site)",
        "repeats": "Se répète",
        "dates": "Prochaines dates",
        "more_dates": "D'autres dates suivent : le fichier agenda (.ics) les contient toutes.",
        "outlook_once": "Outlook n'ajoute que la prochaine date : pour toute la série, "
        "ajoutez le fichier agenda (.ics).",
    },
    "en": {
        "upcoming": "Upcoming events",
        "none": "No event is planned for now.",
        "add": "Add to my calendar",
        "online": "Online",
        "feeds": "Subscribe to the calendars",
        "feeds_help": "Subscribe from your calendar (phone, Outlook, Thunderbird, Google "
        "Calendar): events appear and stay up to date by themselves.",
        "subscribe_webcal": "Subscribe",
        "subscribe_google": "Add to Google Calendar",
        "subscribe_https": "Feed address (.ics)",
        "share": "Share the calendar",
        "embed_link": "Embed the calendar in a partner's site",
        "newsletter_link": "Prepare the newsletter's events section",
        "when": "When",
        "where": "Where",
        "map": "See on the map (OpenStreetMap)",
        "join_online": "Join the event online",
        "price": "Price",
        "more": "Event website",
        "register": "Register",
        "add_ics": "Calendar file (.ics)",
        "add_google": "Google Calendar",
        "add_outlook": "Outlook",
        "about": "About",
        "practical": "Practical information",
        "back": "All events",
        "category": "Category",
        "organised": "Organisers",
        "see_image": "See the picture (on another site)",
        "repeats": "Repeats",
        "dates": "Upcoming dates",
        "more_dates": "More dates follow: the calendar file (.ics) holds them all.",
        "outlook_once": "Outlook adds the next date only: for the whole series, add the "
        "calendar file (.ics).",
    },
}


def _language(request: Request, settings: Settings) -> tuple[str, str]:
    reader = QueryReader(request, settings)
    lang = reader.language()
    if reader.errors:
        lang = None  # an unknown language on a page falls back; the API is the strict one
    lang = lang or settings.default_language
    return lang, ui_language(lang, settings)


async def home(request: Request) -> Response:
    """``GET /``: upcoming events, the feeds with their subscribe links, links to share."""
    state = request.app.state
    settings: Settings = state.settings
    feeds: dict[str, FeedDefinition] = state.feeds
    lang, ui = _language(request, settings)
    # Each event once, at its next date: a weekly drop-in must not fill the page.
    shown = await upcoming(request, flt=EventFilter(), limit=HOME_EVENTS, distinct=True)
    brand = state.templates.brand
    items = render_each(
        shown,
        lambda o: occurrence_item(o.event, o.start_ts, o.end_ts, lang=lang, brand=brand),
        what="the home page",
        ident=lambda o: o.event.id,
    )
    shown_lang = lang if lang != settings.default_language else None
    feed_list = [
        {
            "slug": f.slug,
            "title": f.text(f.title, lang, settings.default_language),
            "description": f.text(f.description, lang, settings.default_language)
            if f.description
            else "",
            "links": feed_links(f, settings, shown_lang),
        }
        for f in feeds.values()
    ]
    context: dict[str, Any] = {
        "ui": ui,
        "lang": lang,
        "w": WORDS[ui],
        "items": items,
        "feeds": feed_list,
        "query_lang": f"?lang={lang}" if lang != settings.default_language else "",
    }
    return render_page(request, "pages/home.html", context)


async def event_page(request: Request) -> Response:
    """``GET /events/{id or slug}``: everything about one event, localised, with JSON-LD and
    OpenGraph for link previews."""
    state = request.app.state
    settings: Settings = state.settings
    lang, ui = _language(request, settings)
    key = request.path_params["key"]
    today = local_today(settings)

    async def build(version: int) -> Rendered:
        # Looked up inside the build: a warm request touches no database.
        event = await public_event(state.storage, key)
        last = await last_occurrence_start(state.storage, event_id=event.id)
        # Rendered in a thread: Markdown and dates cost CPU, not the event loop.
        return await asyncio.to_thread(render, event, last, version)

    def render(event: StoredEvent, last: int | None, version: int) -> Rendered:
        # Every upcoming date within the lookahead, up to PAGE_DATES, listed on the page.
        ahead, beyond = upcoming_times(
            event,
            now=utc_now(),
            days=settings.lookahead_days,
            cap=settings.max_occurrences,
            listed=PAGE_DATES,
        )
        times = ahead[:MAX_LISTED_DATES]
        more_until = None
        if len(ahead) > len(times) or beyond is not None:
            more_until = last  # the true last date of a series with an end
        view = event_page_view(
            event,
            times,
            more_until,
            lang=lang,
            brand=state.templates.brand,
            last_ts=last,
            ahead=ahead,
            # Dates follow the listed ones: past the list, or a series without end.
            more=beyond is not None or (last is None and bool(event.document.get("recurrence"))),
        )
        # Sanitised already (nh3); written out again for French typography and inert merge tags.
        view["description_html"] = Markup(
            rewrite(view["description_html"], view["description_lang"])
        )
        context: dict[str, Any] = {
            "ui": ui,
            "lang": lang,
            "w": WORDS[ui],
            "e": view,
            "jsonld": Markup(view["jsonld"]),
            "query_lang": f"?lang={lang}" if lang != settings.default_language else "",
        }
        page = render_page(request, "pages/event.html", context)
        changed = datetime.fromtimestamp(event.updated_us / 1_000_000, UTC)
        # The next dates move with the day: so does Last-Modified.
        day = datetime.combine(today, datetime.min.time(), zone(settings.default_timezone))
        return Rendered.build(
            version=version,
            body=bytes(page.body),
            last_modified=max(changed, day),
            headers={k: v for k, v in page.headers.items() if k.lower() != "content-length"},
        )

    # Keyed by the language shown (an unknown ?lang= shows the default one): a made-up
    # parameter cannot make a new entry.
    shown = f"lang={lang}" if lang != settings.default_language else ""
    entry = await state.rendered.get(
        state.storage, cache_key(request.url.path, shown, today), build
    )
    return await cached_response(request, entry)


@functools.cache
def _favicon() -> tuple[bytes, str]:
    body = (resources.files("calendar_service") / "static" / "favicon.ico").read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:20]}"'


async def favicon(request: Request) -> Response:
    """``GET /favicon.ico``, which browsers and feed readers ask for whatever the page says."""
    body, etag = _favicon()
    headers = {"ETag": etag, "Cache-Control": "public, max-age=604800"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="image/x-icon")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
    Route("/events/{key}", event_page, methods=["GET"]),
]
