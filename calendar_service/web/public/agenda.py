"""The public agenda: every upcoming event in pages, filtered and searched; a month grid; the
past as an archive. ``/agenda`` lists, ``/agenda/{year}/{month}`` shows a month.

Each state of the agenda is a plain URL (a GET form without JavaScript): ``q`` (search),
``feed``, ``category``, ``tag``, ``city``, ``when`` (today, weekend, week, month) or ``from`` and
``to`` (dates), ``online``, ``free``, ``accessible``, ``dates=all`` (every date of a series,
not each series once), ``period=past`` (the archive) and the page (``after``, or ``page`` for
search results, which come by relevance). A mistaken value falls back to its default: a page
shows something rather than an error. Pages are cached like the event pages.
"""

from __future__ import annotations

import asyncio
import calendar as month_calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.cache import Rendered
from calendar_service.dates import epoch, from_epoch, utc_now, zone
from calendar_service.db import agenda as queries
from calendar_service.db.events import StoredEvent, content_version
from calendar_service.db.listings import EventFilter, StoredOccurrence, list_occurrences
from calendar_service.db.search import fold, words
from calendar_service.digits import is_number
from calendar_service.errors import BadRequest
from calendar_service.render.pages import occurrence_item
from calendar_service.resilience import render_each
from calendar_service.settings import Settings
from calendar_service.vocabulary import CATEGORIES
from calendar_service.web.cached import cache_key, cached_response, local_today
from calendar_service.web.html import render_page, ui_language
from calendar_service.web.inputs import feed_filter, within

PAGE = 20
SEARCH_PAGES = 50  # search results are paged by offset: 50 pages of 20 at most
DAY_SHOWN = 3  # a month's day shows its first three events, then "+ N"
CITIES = 60
WHENS = ("today", "weekend", "week", "month")
FLAGS = ("online", "free", "accessible")

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Agenda",
        "title_past": "Événements passés",
        "month_title": "Agenda de {month}",
        "search": "Rechercher",
        "search_label": "Mots recherchés",
        "search_help": "Titre, lieu, organisation… les accents et majuscules ne comptent pas.",
        "filters": "Filtrer",
        "feed": "Agenda",
        "any_feed": "Tous les agendas",
        "category": "Type d'événement",
        "any_category": "Tous les types",
        "tag": "Mot-clé",
        "city": "Ville",
        "any_city": "Toutes les villes",
        "when": "Quand",
        "any_when": "À venir",
        "today": "Aujourd'hui",
        "weekend": "Ce week-end",
        "week": "Cette semaine",
        "month": "Ce mois-ci",
        "from": "Du",
        "to": "Au",
        "online": "En ligne seulement",
        "free": "Gratuit ou prix libre seulement",
        "accessible": "Accessible seulement (fauteuil, boucle magnétique, LSF…)",
        "all_dates": "Montrer chaque date des séries",
        "apply": "Afficher",
        "reset": "Tout effacer",
        "results": "{n} résultat(s) pour « {q} »",
        "results_more": "Plus de {n} résultats pour « {q} »",
        "none": "Aucun événement ne correspond. Essayez moins de filtres, ou d'autres mots.",
        "next": "Événements suivants",
        "previous_page": "Résultats précédents",
        "next_page": "Résultats suivants",
        "more_dates": "et {n} autre(s) date(s)",
        "last_of": "la dernière de {n} dates",
        "more_dates_open": "et d'autres dates",
        "past_mark": "Passé",
        "past_link": "Événements passés",
        "upcoming_link": "Événements à venir",
        "month_link": "Vue par mois",
        "list_link": "Vue en liste",
        "previous_month": "Mois précédent",
        "next_month": "Mois suivant",
        "today_mark": "aujourd'hui",
        "more_in_day": "+ {n} autre(s)",
        "day_link": "Tous les événements du {day}",
        "no_event_day": "aucun événement",
        "views": "Affichage",
        "online_word": "En ligne",
    },
    "en": {
        "title": "Calendar",
        "title_past": "Past events",
        "month_title": "Calendar of {month}",
        "search": "Search",
        "search_label": "Search words",
        "search_help": "Title, place, organiser… accents and capitals do not matter.",
        "filters": "Filter",
        "feed": "Calendar",
        "any_feed": "Every calendar",
        "category": "Kind of event",
        "any_category": "Every kind",
        "tag": "Tag",
        "city": "City",
        "any_city": "Every city",
        "when": "When",
        "any_when": "Upcoming",
        "today": "Today",
        "weekend": "This weekend",
        "week": "This week",
        "month": "This month",
        "from": "From",
        "to": "To",
        "online": "Online only",
        "free": "Free or pay-what-you-can only",
        "accessible": "Accessible only (wheelchair, hearing loop, sign language…)",
        "all_dates": "Show every date of a series",
        "apply": "Show",
        "reset": "Clear all",
        "results": "{n} result(s) for “{q}”",
        "results_more": "More than {n} results for “{q}”",
        "none": "No event matches. Try fewer filters, or other words.",
        "next": "Later events",
        "previous_page": "Previous results",
        "next_page": "Next results",
        "more_dates": "and {n} more date(s)",
        "last_of": "the last of {n} dates",
        "more_dates_open": "and more dates",
        "past_mark": "Past",
        "past_link": "Past events",
        "upcoming_link": "Upcoming events",
        "month_link": "Month view",
        "list_link": "List view",
        "previous_month": "Previous month",
        "next_month": "Next month",
        "today_mark": "today",
        "more_in_day": "+ {n} more",
        "day_link": "Every event of {day}",
        "no_event_day": "no event",
        "views": "View",
        "online_word": "Online",
    },
}


@dataclass
class Choices:
    """What the visitor asked, read leniently from the query."""

    lang: str
    q: str = ""
    feed: str = ""
    category: str = ""
    tag: str = ""
    city: str = ""
    when: str = ""
    first: date | None = None
    last: date | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    all_dates: bool = False
    past: bool = False
    after: str = ""
    page: int = 1
    default_lang: str = "fr"
    today: date = date.min  # the service's day, in its zone

    @classmethod
    def read(cls, request: Request, settings: Settings) -> Choices:
        params = request.query_params
        lang = params.get("lang") or settings.default_language
        if lang not in settings.languages:
            lang = settings.default_language

        def day(name: str) -> date | None:
            try:
                value = date.fromisoformat(params.get(name, "")[:10])
            except ValueError:
                return None
            return value if 2000 <= value.year <= 2200 else None

        page = params.get("page", "1")
        feed = params.get("feed", "")
        category = params.get("category", "")
        when = params.get("when", "")
        return cls(
            today=local_today(settings),
            default_lang=settings.default_language,
            lang=lang,
            q=" ".join(params.get("q", "").split())[:200],
            feed=feed if feed in request.app.state.feeds else "",
            category=category if category in CATEGORIES else "",
            tag=params.get("tag", "").strip().lower()[:50],
            city=fold(params.get("city", "")).strip()[:120],
            when=when if when in WHENS else "",
            first=day("from"),
            last=day("to"),
            flags={name: params.get(name) in ("1", "on", "true") for name in FLAGS},
            all_dates=params.get("dates") == "all",
            past=params.get("period") == "past",
            after=params.get("after", "")[:200],
            page=int(page) if is_number(page) and 0 < int(page) <= SEARCH_PAGES else 1,
        )

    def query(self, **changes: Any) -> str:
        """This state as a query string, with ``changes`` (a value of None drops it)."""
        values: dict[str, Any] = {
            "q": self.q,
            "feed": self.feed,
            "category": self.category,
            "tag": self.tag,
            "city": self.city,
            "when": self.when,
            "from": self.first.isoformat() if self.first else "",
            "to": self.last.isoformat() if self.last else "",
            **{name: "1" if on else "" for name, on in self.flags.items()},
            "dates": "all" if self.all_dates else "",
            "period": "past" if self.past else "",
            "after": self.after,
            "page": str(self.page) if self.page > 1 else "",
            "lang": self.lang if self.lang != self.default_lang else "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})

    def event_filter(self, request: Request) -> EventFilter:
        feeds = request.app.state.feeds
        flt = feed_filter(feeds[self.feed]) if self.feed else EventFilter()
        flt = within(
            flt,
            categories=[self.category] if self.category else [],
            tags=[self.tag] if self.tag else [],
        )
        flt.q = self.q
        flt.cities = [self.city] if self.city else []
        flt.online = self.flags.get("online", False)
        flt.free = self.flags.get("free", False)
        flt.accessible = self.flags.get("accessible", False)
        return flt

    def window(self, today: date) -> tuple[date | None, date | None]:
        """The days asked (both included), from a shortcut or from the dates typed."""
        if self.when == "today":
            return today, today
        if self.when == "weekend":
            saturday = today + timedelta(days=(5 - today.weekday()) % 7)
            if today.weekday() == 6:
                saturday = today - timedelta(days=1)
            return max(today, saturday), saturday + timedelta(days=1)
        if self.when == "week":
            return today, today + timedelta(days=6 - today.weekday())
        if self.when == "month":
            last = month_calendar.monthrange(today.year, today.month)[1]
            return today, today.replace(day=last)
        return self.first, self.last


def _midnight(day: date, tz: Any) -> int:
    return epoch(datetime.combine(day, datetime.min.time(), tz))


def _day_heading(day: date, lang: str) -> str:
    text = format_date(day, "EEEE d MMMM y", locale=lang)
    return text[:1].upper() + text[1:]


async def _list_items(
    request: Request, choices: Choices, settings: Settings
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The items of a list page and what the page says around them (paging, counts)."""
    state = request.app.state
    storage = state.storage
    brand = state.templates.brand
    tz = zone(settings.default_timezone)
    now = epoch(utc_now())
    today = local_today(settings)
    first, last = choices.window(today)
    flt = choices.event_filter(request)
    from_ts = max(now, _midnight(first, tz)) if first else now
    to_ts = (
        _midnight(last + timedelta(days=1), tz) if last else now + settings.lookahead_days * 86_400
    )
    about: dict[str, Any] = {"next_query": None, "previous_query": None, "count": None}
    if choices.past:
        try:
            found, cursor = await queries.past_page(
                storage, flt=flt, now_ts=now, cursor=choices.after or None, limit=PAGE
            )
        except BadRequest:  # a cursor of another listing: start again
            found, cursor = await queries.past_page(
                storage, flt=flt, now_ts=now, cursor=None, limit=PAGE
            )
        # Each at its last date (a series too: "the last of 12 dates").
        times = await queries.last_times(storage, [e.id for e in found])
        for e in found:
            times.setdefault(e.id, (e.start_ts, e.start_ts, 1))
        items = _items(found, times, choices, brand)
        for item in items:
            item["past"] = True
        if cursor:
            about["next_query"] = choices.query(after=cursor)
        return items, about
    if words(choices.q):
        offset = (choices.page - 1) * PAGE
        found = await queries.search_page(
            storage,
            flt=flt,
            from_ts=from_ts,
            to_ts=to_ts if (first or last) else None,
            offset=offset,
            limit=PAGE,
        )
        more = len(found) > PAGE
        found = found[:PAGE]
        times = await queries.first_times(
            storage, [e.id for e in found], from_ts=from_ts, to_ts=to_ts
        )
        items = _items([e for e in found if e.id in times], times, choices, brand)
        about["count"] = offset + len(found)
        about["count_more"] = more
        if more and choices.page < SEARCH_PAGES:
            about["next_query"] = choices.query(page=str(choices.page + 1))
        if choices.page > 1:
            about["previous_query"] = choices.query(
                page=str(choices.page - 1) if choices.page > 2 else None
            )
        return items, about
    if to_ts <= from_ts:
        return [], about

    async def page(after: str | None) -> tuple[list[StoredOccurrence], str | None]:
        return await list_occurrences(
            storage,
            flt=flt,
            from_ts=from_ts,
            to_ts=to_ts,
            limit=PAGE,
            cursor=after,
            cap=settings.max_occurrences,
            once=not choices.all_dates,
        )

    try:
        occurrences, cursor = await page(choices.after or None)
    except BadRequest:  # a cursor of another listing: start again
        occurrences, cursor = await page(None)
    counts: dict[int, tuple[int, int, int]] = {}
    if not choices.all_dates:
        series = [o.event.id for o in occurrences if o.event.document.get("recurrence")]
        counts = await queries.first_times(storage, series, from_ts=from_ts, to_ts=to_ts)
    items = _occurrence_items(occurrences, counts, choices, brand)
    if cursor:
        about["next_query"] = choices.query(after=cursor)
    return items, about


def _items(
    found: list[StoredEvent],
    times: dict[int, tuple[int, int, int]],
    choices: Choices,
    brand: Any,
) -> list[dict[str, Any]]:
    occurrences = [StoredOccurrence(e, times[e.id][0], times[e.id][1]) for e in found]
    counts = {e.id: times[e.id] for e in found if e.document.get("recurrence")}
    return _occurrence_items(occurrences, counts, choices, brand)


def _occurrence_items(
    occurrences: list[StoredOccurrence],
    counts: dict[int, tuple[int, int, int]],
    choices: Choices,
    brand: Any,
) -> list[dict[str, Any]]:
    w = WORDS[_ui(choices.lang)]
    today = date.min if choices.past else choices.today

    def item(o: StoredOccurrence) -> dict[str, Any]:
        shown = occurrence_item(o.event, o.start_ts, o.end_ts, lang=choices.lang, brand=brand)
        tz = zone(o.event.document["timezone"])
        # Under the day it starts, or under today for what began earlier and goes on.
        shown["day"] = max(from_epoch(o.start_ts, tz).date(), today)
        shown["past"] = False
        shown["more"] = ""
        if o.event.id in counts and counts[o.event.id][2] > 1:
            n = counts[o.event.id][2]
            shown["more"] = (
                w["last_of"].format(n=n) if choices.past else w["more_dates"].format(n=n - 1)
            )
        return shown

    return render_each(occurrences, item, what="the agenda", ident=lambda o: o.event.id)


def _ui(lang: str) -> str:
    return lang if lang in WORDS else "en"


async def _options(request: Request, choices: Choices, settings: Settings) -> dict[str, Any]:
    """The choices the filter form offers: feeds, categories, the cities of upcoming events."""
    state = request.app.state
    ui = _ui(choices.lang)
    version = await content_version(state.storage)
    known = state.agenda_cities
    if known.get("version") != version:
        rows = await queries.cities(
            state.storage, flt=EventFilter(), now_ts=epoch(utc_now()), most=CITIES
        )
        examples = await queries.events_by_id(state.storage, [r["example"] for r in rows])
        cities = []
        for row in rows:
            example = examples.get(row["example"])
            location = (example.document.get("location") or {}) if example else {}
            cities.append((row["city_key"], location.get("city") or row["city_key"]))
        known.clear()
        known.update({"version": version, "cities": sorted(cities, key=lambda c: c[0])})
    return {
        "feeds": [
            (slug, f.text(f.title, choices.lang, settings.default_language))
            for slug, f in state.feeds.items()
        ],
        "categories": [(k, v.get(ui, v["en"])) for k, v in CATEGORIES.items()],
        "cities": known["cities"],
    }


async def agenda(request: Request) -> Response:
    """``GET /agenda``: the list, the search results or the archive."""
    return await _cached(request, "pages/agenda.html", _list_context)


async def month(request: Request) -> Response:
    """``GET /agenda/{year}/{month}``: a month as a grid of days."""
    year, number = request.path_params["year"], request.path_params["month"]
    if not (is_number(year) and is_number(number) and 2000 <= int(year) <= 2200):
        raise HTTPException(404)
    if not 1 <= int(number) <= 12 or len(number) != 2:
        raise HTTPException(404)
    return await _cached(request, "pages/agenda_month.html", _month_context)


async def _cached(request: Request, template: str, build_context: Any) -> Response:
    state = request.app.state
    settings: Settings = state.settings
    choices = Choices.read(request, settings)
    today = local_today(settings)

    async def build(version: int) -> Rendered:
        context = await build_context(request, choices, settings, today)
        context.update(await _options(request, choices, settings))
        ui = _ui(choices.lang)
        context.update(
            {
                "ui": ui_language(choices.lang, settings),
                "lang": choices.lang,
                "w": WORDS[ui],
                "c": choices,
                "flags": FLAGS,
                "whens": WHENS,
            }
        )
        page = await asyncio.to_thread(render_page, request, template, context)
        return Rendered.build(
            version=version,
            body=bytes(page.body),
            last_modified=datetime.now(UTC),
            headers={k: v for k, v in page.headers.items() if k.lower() != "content-length"},
        )

    entry = await state.rendered.get(
        state.storage, cache_key(request.url.path, request.url.query, today), build
    )
    return await cached_response(request, entry)


async def _list_context(
    request: Request, choices: Choices, settings: Settings, today: date
) -> dict[str, Any]:
    items, about = await _list_items(request, choices, settings)
    days: list[dict[str, Any]] = []
    if not words(choices.q):
        for item in items:  # a day list: each day under its heading
            if not days or days[-1]["day"] != item["day"]:
                days.append(
                    {
                        "day": item["day"],
                        "heading": _day_heading(item["day"], choices.lang),
                        "items": [],
                    }
                )
            days[-1]["items"].append(item)
    narrowed = [
        choices.feed,
        choices.category,
        choices.tag,
        choices.city,
        choices.when,
        choices.first,
        choices.last,
        *choices.flags.values(),
        choices.all_dates,
    ]
    kept = {"lang": choices.lang} if choices.lang != choices.default_lang else {}
    if choices.past:
        kept["period"] = "past"
    return {
        "filtered": any([*narrowed, choices.q]),
        "filters_open": any(narrowed),
        "reset_url": "/agenda" + ("?" + urlencode(kept) if kept else ""),
        "items": items,
        "days": days,
        "about": about,
        "month_url": f"/agenda/{today:%Y/%m}",
    }


async def _month_context(
    request: Request, choices: Choices, settings: Settings, today: date
) -> dict[str, Any]:
    state = request.app.state
    year, number = int(request.path_params["year"]), int(request.path_params["month"])
    tz = zone(settings.default_timezone)
    first = date(year, number, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    flt = choices.event_filter(request)
    slots = await queries.month_slots(
        state.storage,
        flt=flt,
        from_ts=_midnight(first, tz),
        to_ts=_midnight(following, tz),
        cap=settings.max_occurrences,
    )
    by_day: dict[date, list[queries.Slot]] = {}
    for slot in slots:
        day = from_epoch(max(slot.start_ts, _midnight(first, tz)), tz).date()
        by_day.setdefault(day, []).append(slot)
    shown_ids = sorted({s.event_id for day in by_day.values() for s in day[:DAY_SHOWN]})
    found = await queries.events_by_id(state.storage, shown_ids)
    brand = state.templates.brand
    ui = _ui(choices.lang)
    w = WORDS[ui]

    def cell(day: date) -> dict[str, Any]:
        slots_of_day = by_day.get(day, [])
        shown = [s for s in slots_of_day[:DAY_SHOWN] if s.event_id in found]
        items = render_each(
            shown,
            lambda s: occurrence_item(
                found[s.event_id], s.start_ts, s.end_ts, lang=choices.lang, brand=brand
            ),
            what="the agenda's month",
            ident=lambda s: s.event_id,
        )
        return {
            "day": day,
            "iso": day.isoformat(),
            "number": day.day,
            "label": format_date(day, "EEEE d MMMM", locale=choices.lang),
            "in_month": day.month == number,
            "today": day == today,
            "items": items,
            "more": len(slots_of_day) - len(shown),
            "link": "/agenda?"
            + choices.query(
                **{
                    "from": day.isoformat(),
                    "to": day.isoformat(),
                    "when": None,
                    "dates": "all",
                    "after": None,
                    "page": None,
                }
            ),
        }

    weeks = [
        [cell(day) for day in week]
        for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, number)
    ]
    previous = (first - timedelta(days=1)).replace(day=1)
    title = format_date(first, "LLLL y", locale=choices.lang)
    monday = date(2024, 1, 1)
    return {
        "weeks": weeks,
        "title": w["month_title"].format(month=title),
        "month_name": title[:1].upper() + title[1:],
        "weekdays": [
            (
                format_date(monday + timedelta(days=i), "EEEE", locale=choices.lang),
                format_date(monday + timedelta(days=i), "EEE", locale=choices.lang),
            )
            for i in range(7)
        ],
        "previous_url": f"/agenda/{previous:%Y/%m}?{choices.query(after=None, page=None)}",
        "next_url": f"/agenda/{following:%Y/%m}?{choices.query(after=None, page=None)}",
        "list_url": "/agenda?"
        + choices.query(
            **{
                "from": first.isoformat(),
                "to": (following - timedelta(days=1)).isoformat(),
                "when": None,
                "after": None,
                "page": None,
            }
        ),
        "month_url": f"/agenda/{today:%Y/%m}",
    }


routes = [
    Route("/agenda", agenda, methods=["GET"]),
    Route("/agenda/{year}/{month}", month, methods=["GET"]),
]
