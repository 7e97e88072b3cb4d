"""Feed benchmark: what ``GET /feeds/agenda.ics`` costs with 10,000 events in the feed.

Seeds a store (SQLite file in a temporary folder; optionally a throwaway PostgreSQL database),
serves the real app with uvicorn in a subprocess (one worker, 127.0.0.1, a free port) and a bare
Starlette app in another subprocess that returns the same feed bytes from memory, then measures:

- COLD AFTER A WRITE: ``PATCH /api/events/{slug}`` (an editor token), then ``GET`` of the feed
  with ``Accept-Encoding: identity``; median of 5 pairs. Target: BASELINE 1 / cold >= 20x.
- COLD, CACHE EMPTIED: the feed rebuilt on every request (the cache is emptied before each one
  through a route mounted only in the benchmark app), identity and gzip alternated.
- BASELINE 1: the same feed built per request the "obvious" way, with no stored VEVENTs and no
  cache: read the events' documents, build an ``icalendar.Calendar`` with an ``icalendar.Event``
  per event (the properties ``render_vevent`` writes) and serialise it.
- STAMPEDE: a write, then 64 concurrent GETs (threads, one open keep-alive connection each),
  against one GET after a write right before. Target: <= 3x. The same bursts against the bare
  app give the floor (moving the bytes, no build).
- CACHE BUSTING: 600 ``?cb=N``, 600 ``?q=<random word>`` and 600 ``?q=<two letters>``; the
  server's VmRSS before and after. Target: growth < ``CALENDAR_CACHE_BYTES``.
- WARM: ``wrk`` against the cached feed (identity, ``Accept-Encoding: gzip``, and the 304 of
  ``If-None-Match``) and its filtered URLs (``?category=``, ``?tag=``, ``?lang=``: gzip and 304),
  and against the bare app answering the same requests with the same bytes and headers.
  Target: app requests/s >= 0.70 x bare.

One table at the end gives every case, its target and OK or MISS.

    cd /work/main && .venv/bin/python benchmarks/bench_feeds.py --quick   # 2,000 events, 3 s runs
    .venv/bin/python benchmarks/bench_feeds.py                            # 10,000 events, 10 s
    .venv/bin/python benchmarks/bench_feeds.py --databases sqlite,postgresql

The exit code is 0 whatever the verdicts (non-zero only for wrong arguments or a crash).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import http.client
import json
import os
import random
import re
import shutil
import statistics
import string
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import sqlalchemy as sa
from harness import (
    CLOCK_TICKS,
    FEEDS_DIR,
    OTHER_LOAD_WARNING,
    Answer,
    BadAnswer,
    Client,
    Row,
    Server,
    WarmCase,
    header_differences,
    kind_of,
    measure_warm,
    median_ms,
    print_warm_table,
    print_warm_warnings,
    run_database,
    seed,
    serve_app,
    start_server,
    stop_on_sigterm,
    stop_server,
    verdict,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from throwaway import Cleanup

from calendar_service.app import create_app
from calendar_service.dates import epoch, utc_now, zone
from calendar_service.db.connection import Storage, migrate
from calendar_service.db.events import StoredEvent, record_from_row
from calendar_service.db.feeds import FeedItem
from calendar_service.db.listings import EventFilter, filter_conditions
from calendar_service.db.tables import events as events_table
from calendar_service.db.tokens import create_token
from calendar_service.feedspec import FeedDefinition
from calendar_service.models import EventIn
from calendar_service.normalise import parse_event
from calendar_service.render import ical
from calendar_service.render.ical import RenderContext
from calendar_service.render.vtimezone import vtimezone
from calendar_service.schedule import schedule_for
from calendar_service.settings import Settings
from calendar_service.vocabulary import CATEGORIES as CATEGORY_LABELS
from calendar_service.web.inputs import feed_filter
from calendar_service.web.public.feeds import ICS_TYPE, _zones

SCRIPT = Path(__file__)  # run again with --serve app|bare for the servers
FEED_SLUG = "agenda"
FEED_PATH = f"/feeds/{FEED_SLUG}.ics"
BASELINE_PATH = f"/bench/baseline/{FEED_SLUG}.ics"
COLD_TARGET = 20.0  # baseline median / cold median
WARM_TARGET = 0.70  # app requests/s / bare requests/s
STAMPEDE_TARGET = 3.0  # N concurrent GETs after a write / one GET after a write
BUSTING_WARM_UP = 50  # requests of each cache-busting kind before the memory is read
# The URLs measured warm: the plain feed and one per filter the feed takes from its query.
FILTERS = {"plain": "", "category": "category=concert", "tag": "tag=solidarite", "lang": "lang=en"}
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
SEED = 20_260_212
PAST_SHARE = 0.10  # extra events that ended before the retention window (not in the feed)
MAYOTTE_SHARE = 0.05
AHEAD_DAYS = 730  # events in the feed start from 25 days ago to two years ahead

# --- documents --------------------------------------------------------------------------------

CATEGORIES = [
    "concert", "projection", "exposition", "spectacle", "mobilisation", "conference",
    "atelier", "permanence", "rencontre", "concours", "collecte", "autre",
]  # fmt: skip
KINDS = {
    "concert": ("Concert solidaire", "Solidarity concert"),
    "projection": ("Projection-débat", "Film screening and debate"),
    "exposition": ("Exposition", "Exhibition"),
    "spectacle": ("Spectacle", "Show"),
    "mobilisation": ("Rassemblement", "Rally"),
    "conference": ("Conférence", "Talk"),
    "atelier": ("Atelier", "Workshop"),
    "permanence": ("Permanence d'accès aux droits", "Legal drop-in session"),
    "rencontre": ("Rencontre", "Meeting"),
    "concours": ("Remise des prix", "Award ceremony"),
    "collecte": ("Collecte", "Collection drive"),
    "autre": ("Journée portes ouvertes", "Open day"),
}
SUBJECTS = [
    ("pour l'accueil des personnes exilées", "for the welcome of exiled people"),
    ("sur les frontières", "on borders"),
    ("autour de la mémoire des migrations", "on the memory of migration"),
    ("pour l'égalité des droits", "for equal rights"),
    ("sur le droit d'asile", "on the right of asylum"),
    ("avec les jeunes isolés", "with unaccompanied young people"),
    ("contre la précarité", "against precarity"),
    ("sur l'accès aux soins", "on access to healthcare"),
    ("autour du français langue étrangère", "on French as a foreign language"),
    ("pour un logement digne", "for decent housing"),
]  # fmt: skip
TAGS = [
    "solidarite", "exil", "asile", "jeunesse", "femmes", "musique", "cinema", "theatre",
    "droits-humains", "justice", "logement", "sante", "emploi", "education", "francais",
    "famille", "benevolat", "collecte", "accueil", "frontieres", "memoire", "debat", "gratuit",
    "inscription", "accessible", "mayotte",
]  # fmt: skip
PLACES = [
    ("La Bellevilloise", "19-21 rue Boyer", "75020", "Paris", 48.8686, 2.3933),
    ("Maison des métallos", "94 rue Jean-Pierre Timbaud", "75011", "Paris", 48.8672, 2.3749),
    ("Friche la Belle de Mai", "41 rue Jobin", "13003", "Marseille", 43.3103, 5.3904),
    ("Le Channel", "173 boulevard Gambetta", "62100", "Calais", 50.9497, 1.8470),
    ("Les Subsistances", "8bis quai Saint-Vincent", "69001", "Lyon", 45.7700, 4.8170),
    ("Maison Folie Wazemmes", "70 rue des Sarrazins", "59000", "Lille", 50.6280, 3.0480),
    ("Le Lieu Unique", "2 rue de la Biscuiterie", "44000", "Nantes", 47.2150, -1.5450),
    ("Médiathèque centrale", "25 rue Sainte-Catherine", "31000", "Toulouse", 43.6045, 1.4440),
    ("Centre social", "3 rue de la Paix", "67000", "Strasbourg", 48.5734, 7.7521),
]  # fmt: skip
MAYOTTE_PLACES = [
    ("Pôle culturel de Chirongui", "Route nationale 3", "97620", "Chirongui", -12.9319, 45.1485),
    ("Maison des associations", "Rue du Commerce", "97600", "Mamoudzou", -12.7806, 45.2279),
    ("MJC de Dzaoudzi", "Boulevard des Crabes", "97615", "Dzaoudzi", -12.7871, 45.2817),
]  # fmt: skip
ORGANIZERS = [
    ("France terre d'asile", "https://www.france-terre-asile.org"),
    ("La Cimade", "https://www.lacimade.org"),
    ("Secours catholique", "https://www.secours-catholique.org"),
    ("Forum réfugiés", "https://www.forumrefugies.org"),
    ("Collectif Cause Majeur !", "https://example.org/cause-majeur"),
    ("Médecins sans frontières", "https://www.msf.fr"),
]  # fmt: skip
FR_SENTENCES = [
    "Un temps d'échange, de témoignages et de convivialité, ouvert à toutes et à tous.",
    "Les bénévoles de l'association présenteront leurs actions de l'année écoulée.",
    "La rencontre sera suivie d'un repas partagé : chacun·e apporte un plat à partager.",
    "Interprétariat en arabe, en dari et en anglais sur place ; garde d'enfants possible.",
    "Des juristes répondront à vos questions sur les titres de séjour et le droit d'asile.",
    "Entrée libre dans la limite des places disponibles, inscription conseillée.",
]  # fmt: skip
EN_SENTENCES = [
    "A time for sharing, testimonies and friendship, open to everyone.",
    "The association's volunteers will present this year's work.",
    "The meeting is followed by a shared meal: bring a dish to share.",
    "Interpreting into Arabic, Dari and English on site; childcare available.",
    "Lawyers will answer your questions about residence permits and asylum.",
    "Free entry while places last; registration recommended.",
]  # fmt: skip


def bench_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        base_url="http://bench",
        environment="development",
        feeds_dir=FEEDS_DIR,
    )


def template_document(n: int, kind: str, mayotte: bool, rng: random.Random) -> dict[str, Any]:
    """A valid event document, in French and often in English, of a few hundred characters."""
    category = CATEGORIES[n % len(CATEGORIES)]
    place = (MAYOTTE_PLACES if mayotte else PLACES)[n % (3 if mayotte else len(PLACES))]
    organizer = ORGANIZERS[n % len(ORGANIZERS)]
    subject_fr, subject_en = SUBJECTS[(n // len(CATEGORIES)) % len(SUBJECTS)]
    kind_fr, kind_en = KINDS[category]
    title_fr = f"{kind_fr} {subject_fr} à {place[3]}"
    bilingual = n % 3 != 2
    fr = rng.sample(FR_SENTENCES, 2 + n % 3)
    description_fr = (
        f"**{organizer[0]}** vous donne rendez-vous à {place[0]} ({place[3]}).\n\n"
        + " ".join(fr)
        + f"\n\n[Programme complet]({organizer[1]}/agenda/{n})"
    )
    doc: dict[str, Any] = {
        "title": {"fr": title_fr, "en": f"{kind_en} {subject_en} in {place[3]}"}
        if bilingual
        else title_fr,
        "summary": {"fr": f"{kind_fr} {subject_fr}, ouvert à toutes et à tous."},
        "description": {"fr": description_fr},
        "category": category,
        "tags": rng.sample(TAGS, 1 + n % 4),
        "location": {
            "name": place[0],
            "address": place[1],
            "postal_code": place[2],
            "city": place[3],
            "country": "FR",
            "lat": place[4],
            "lon": place[5],
        },
        "organizer": {"name": organizer[0], "url": organizer[1]},
        "url": f"{organizer[1]}/agenda/{n}",
        "price": {"fr": ["Entrée libre", "Gratuit, sur inscription", "Prix libre"][n % 3]},
        "state": "published",
    }
    if bilingual:
        en = [EN_SENTENCES[FR_SENTENCES.index(s)] for s in fr]
        doc["summary"]["en"] = f"{kind_en} {subject_en}, open to everyone."
        doc["description"]["en"] = (
            f"**{organizer[0]}** invites you to {place[0]} ({place[3]}).\n\n"
            + " ".join(en)
            + f"\n\n[Full programme]({organizer[1]}/agenda/{n})"
        )
        doc["price"]["en"] = ["Free entry", "Free, registration required", "Pay what you can"][
            n % 3
        ]
    if mayotte:
        doc["timezone"] = "Indian/Mayotte"
    if n % 4 == 0:
        doc["partners"] = [{"name": ORGANIZERS[(n + 1) % len(ORGANIZERS)][0], "role": "partner"}]
    if n % 7 == 0:
        doc["registration_url"] = f"{organizer[1]}/inscription/{n}"
    if n % 5 == 0:
        doc["accessibility"] = {"features": ["wheelchair"]}
    if n % 11 == 0:
        doc["image"] = {"url": f"https://example.org/images/{n}.jpg", "alt": {"fr": title_fr}}
    if kind == "allday":
        doc.update(start="2026-01-05", end="2026-01-07", all_day=True)
    else:
        doc.update(start="2026-01-05T18:00:00", end="2026-01-05T20:00:00")
    if kind == "recurring":
        doc["recurrence"] = {"rrule": "FREQ=WEEKLY;COUNT=8"}
    return doc


def build_rows(count: int, settings: Settings) -> tuple[list[Row], int]:
    """``count`` events in the feed and ``PAST_SHARE * count`` that ended before its window.

    The feed keeps events that end after today minus ``keep_past_days`` (30): its events start
    between 25 days ago and two years ahead. A few are cancelled or postponed (they stay in the
    feed, marked so).
    """
    rng = random.Random(SEED)
    pools: dict[tuple[str, bool], list[EventIn]] = {}
    n = 0
    for kind, size in (("single", 240), ("recurring", 20), ("allday", 12)):
        for mayotte in (False, True):
            pool = pools.setdefault((kind, mayotte), [])
            for _ in range(size if not mayotte else max(3, size // 10)):
                pool.append(parse_event(template_document(n, kind, mayotte, rng), settings))
                n += 1
    today = date.today()
    past = int(count * PAST_SHARE)
    rows: list[Row] = []
    for i in range(count + past):
        in_feed = i < count
        kind = kind_of(i) if in_feed else "single"
        mayotte = rng.random() < MAYOTTE_SHARE
        template = rng.choice(pools[(kind, mayotte)])
        if in_feed:
            day = today + timedelta(days=rng.randrange(-25, AHEAD_DAYS))
        else:
            day = today - timedelta(days=rng.randrange(40, 400))
        update: dict[str, Any]
        if kind == "allday":
            update = {"start": day, "end": day + timedelta(days=rng.choice((1, 2, 3)))}
        else:
            start = datetime.combine(day, datetime.min.time()).replace(
                hour=rng.randrange(8, 21), minute=rng.choice((0, 15, 30, 45))
            )
            update = {"start": start, "end": start + timedelta(minutes=rng.choice((60, 90, 120)))}
        roll = rng.random()
        if roll < 0.01:
            update["status"] = "cancelled"
        elif roll < 0.015:
            update["status"] = "postponed"
        event = template.model_copy(update=update)
        slug = f"bench-{day.isoformat()}-{i}"
        rows.append((event, schedule_for(event, settings), f"bench-{i}@bench", slug))
    return rows, past


# --- baseline 1: icalendar objects per request ------------------------------------------------


def icalendar_event(event: StoredEvent, *, lang: str, ctx: RenderContext) -> icalendar.Event:
    """The ``icalendar.Event`` that ``render_vevent`` serialises (same properties, same order)."""
    doc = event.document
    default = ctx.default_language
    tz_name = str(doc["timezone"])
    all_day = bool(doc["all_day"])
    status = "cancelled" if event.deleted_us is not None else str(doc["status"])
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", ical._utc(event.updated_us))
    vevent.add("created", ical._utc(event.created_us))
    vevent.add("last-modified", ical._utc(event.updated_us))
    vevent.add("sequence", event.sequence)
    start = ical._moment(str(doc["start"]), tz_name, all_day)
    vevent.add("dtstart", start)
    end_text = doc.get("end")
    if all_day:
        last = date.fromisoformat(str(end_text)) if end_text else start
        vevent.add("dtend", last + timedelta(days=1))
    elif end_text:
        vevent.add("dtend", ical._moment(str(end_text), tz_name, False))
    recurrence = doc.get("recurrence")
    if isinstance(recurrence, dict):
        if recurrence.get("rrule"):
            vevent.add("rrule", icalendar.vRecur.from_ical(recurrence["rrule"]))
        if recurrence.get("rdates"):
            vevent.add("rdate", [ical._moment(v, tz_name, all_day) for v in recurrence["rdates"]])
        if recurrence.get("exdates"):
            vevent.add("exdate", [ical._moment(v, tz_name, all_day) for v in recurrence["exdates"]])
    title = ical._pick(doc["title"], lang, default)
    if status in ("cancelled", "postponed"):
        title = f"[{ical._label(status, lang)}] {title}"
    vevent.add("summary", title)
    vevent.add("description", ical._description(doc, event, lang, ctx))
    location = ical._location(doc, lang, default)
    if location:
        vevent.add("location", location)
    place = doc.get("location")
    if isinstance(place, dict) and place.get("lat") is not None and place.get("lon") is not None:
        vevent.add("geo", (float(place["lat"]), float(place["lon"])))
    vevent.add("url", doc.get("url") or ical.page_url(event, ctx.base_url))
    category = CATEGORY_LABELS[str(doc["category"])]
    vevent.add("categories", [category.get(lang, category["fr"]), *doc.get("tags", [])])
    vevent.add("status", ical.STATUS_MAP.get(status, "CONFIRMED"))
    vevent.add("class", "PUBLIC")
    vevent.add("transp", "OPAQUE")
    organizer = doc.get("organizer")
    if isinstance(organizer, dict) and (organizer.get("email") or organizer.get("url")):
        address = f"mailto:{organizer['email']}" if organizer.get("email") else organizer["url"]
        name = str(organizer["name"]).replace('"', "'")
        vevent.add("organizer", address, parameters={"CN": name})
    image = doc.get("image")
    if isinstance(image, dict) and image.get("url"):
        vevent.add("image", image["url"], parameters={"VALUE": "URI", "DISPLAY": "BADGE"})
    if doc.get("online_url") and doc.get("attendance_mode") in ("online", "mixed"):
        vevent.add("conference", doc["online_url"], parameters={"VALUE": "URI", "FEATURE": "VIDEO"})
    return vevent


async def baseline_feed(request: Request) -> Response:
    """The feed built per request from the events' documents: no stored VEVENTs, no cache.

    Same selection as ``feed_items`` (published, within retention, cancelled ones for
    ``keep_cancelled_days``), but reading the events' documents instead of their VEVENTs.
    """
    settings: Settings = request.app.state.settings
    storage: Storage = request.app.state.storage
    feed: FeedDefinition = request.app.state.feeds[request.path_params["slug"]]
    lang = settings.default_language
    ctx = RenderContext.from_settings(settings)
    today = utc_now().astimezone(zone(settings.default_timezone)).date()
    day_start = datetime.combine(today, datetime.min.time(), zone(settings.default_timezone))
    past_cutoff_ts = epoch(day_start - timedelta(days=feed.keep_past_days))
    cancelled_cutoff_us = epoch(day_start - timedelta(days=feed.keep_cancelled_days)) * 1_000_000
    flt = feed_filter(feed)
    flt = EventFilter(**{**flt.__dict__, "states": ["published"]})
    e = events_table.c
    cancelled = sa.or_(e.deleted_us.is_not(None), e.status == "cancelled")
    rows = await storage.fetch_all(
        sa.select(events_table)
        .where(
            *filter_conditions(flt, deleted=True),
            e.last_end_ts >= past_cutoff_ts,
            sa.or_(sa.not_(cancelled), e.updated_us >= cancelled_cutoff_us),
        )
        .order_by(e.start_ts, e.id)
    )
    stored = [record_from_row(row) for row in rows]
    spans = _zones(
        [
            FeedItem("", s.document["timezone"], s.start_ts, r["last_end_ts"], 0)
            for s, r in zip(stored, rows, strict=True)
        ],
        utc_now(),
    )
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", f"-//{settings.organisation_name}//Calendrier solidaire//{lang.upper()}")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = feed.text(feed.title, lang, settings.default_language)
    description = feed.text(feed.description, lang, settings.default_language)
    calendar.add("name", name)
    calendar.add("x-wr-calname", icalendar.vText(name))
    if description:
        calendar.add("description", description)
        calendar.add("x-wr-caldesc", icalendar.vText(description))
    calendar.add("x-wr-timezone", settings.default_timezone)
    refresh = timedelta(minutes=feed.refresh_minutes)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(refresh))
    source = f"{settings.base_url}/feeds/{feed.slug}.ics"
    calendar.add("source", source, parameters={"VALUE": "URI"})
    calendar.add("x-apple-calendar-color", feed.color)
    for tz_name, (first, last) in sorted(spans.items()):
        # The service's own VTIMEZONE, computed afresh (not from its lru_cache).
        text = vtimezone.__wrapped__(tz_name, first, last)
        calendar.add_component(icalendar.Timezone.from_ical(text))
    for event in stored:
        calendar.add_component(icalendar_event(event, lang=lang, ctx=ctx))
    return Response(calendar.to_ical(), media_type=ICS_TYPE)


# --- servers (this file run with --serve app|bare, in a subprocess) ---------------------------


def benchmark_app(url: str) -> Starlette:
    """The real app, plus routes mounted for the benchmark only (after all of its own).

    The rendered cache's budget is ``CALENDAR_CACHE_BYTES`` from the environment, which the
    benchmark sets for its servers.
    """
    app = create_app(bench_settings(url))

    cache = app.state.rendered
    builds: list[float] = []

    async def timed_get(storage: Storage, key: Any, build: Any) -> Any:
        async def timed_build(version: int) -> Any:
            began = time.perf_counter()
            try:
                return await build(version)
            finally:
                builds.append(time.perf_counter() - began)

        return await type(cache).get(cache, storage, key, timed_build)

    def taken() -> list[float]:
        done = [round(b * 1000, 2) for b in builds]
        builds.clear()
        return done

    async def clear(request: Request) -> Response:
        """Empty the rendered cache; with ``?timed=1`` also time the builds from now on.

        Answers how many entries were dropped, and the build times (ms) since the last call.
        """
        entries = len(cache)
        cache.clear()
        if request.query_params.get("timed"):
            cache.get = timed_get  # this instance only; the class method again on /bench/untimed
        return JSONResponse({"cleared": entries, "builds_ms": taken()})

    async def timed(request: Request) -> Response:
        cache.get = timed_get
        return JSONResponse({"builds_ms": taken()})

    async def untimed(request: Request) -> Response:
        cache.__dict__.pop("get", None)
        return JSONResponse({"builds_ms": taken()})

    async def built(request: Request) -> Response:
        """The build times (ms) since the last call: one per build, however many waited."""
        return JSONResponse({"builds_ms": taken()})

    async def held(request: Request) -> Response:
        return JSONResponse(
            {"entries": len(cache), "bytes": cache.bytes, "budget_bytes": cache.budget_bytes}
        )

    async def ready(request: Request) -> Response:
        return JSONResponse({"ok": True})

    app.router.routes.extend(
        [
            Route("/bench/clear", clear, methods=["POST"]),
            Route("/bench/timed", timed, methods=["POST"]),
            Route("/bench/untimed", untimed, methods=["POST"]),
            Route("/bench/builds", built, methods=["GET"]),
            Route("/bench/cache", held, methods=["GET"]),
            Route("/bench/ready", ready, methods=["GET"]),
            Route("/bench/baseline/{slug}.ics", baseline_feed, methods=["GET"]),
        ]
    )
    return app


def bare_app(folder: Path) -> Starlette:
    """One route, the feed's path, answering each measured URL (the plain feed and the filtered
    ones, by query string) with the app's bytes and headers from memory.

    The headers are the app's own warm answers' (content type and an ``X-Request-ID`` included,
    so that the answers are as long), less ``date``, ``server`` and ``content-length``, which
    uvicorn and Starlette add.
    """
    variants = {}
    for i, spec in enumerate(json.loads((folder / "variants.json").read_text())):
        identity = (folder / f"feed-{i}.ics").read_bytes()
        gzipped = (folder / f"feed-{i}.ics.gz").read_bytes()
        variants[spec["query"].encode("latin-1")] = (identity, gzipped, spec["headers"])

    async def feed(request: Request) -> Response:
        identity, gzipped, headers = variants[request.scope["query_string"]]
        if request.headers.get("if-none-match") is not None:
            return Response(status_code=304, headers=headers["304"])
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            return Response(gzipped, headers=headers["gzip"])
        return Response(identity, headers=headers["identity"])

    async def ready(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route(FEED_PATH, feed, methods=["GET"]), Route("/bench/ready", ready)])


def serve(which: str, target: str) -> int:
    """Subprocess entry (``--serve app URL`` or ``--serve bare FOLDER``): serve until SIGTERM."""
    return serve_app(benchmark_app(target) if which == "app" else bare_app(Path(target)))


# --- measuring --------------------------------------------------------------------------------


def p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))] * 1000


@dataclass
class Cold:
    """Cold requests: client-side times, server-side build times, entries dropped by clears."""

    times: list[float] = field(default_factory=list)
    builds_ms: list[float] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    fresh: int = 0  # answers after a write that showed it


@dataclass
class Burst:
    """Concurrent requests: wall time until the last answer, server-side builds meanwhile."""

    n: int
    seconds: float
    builds_ms: list[float]
    all_ok: bool  # every answer a 200 with the same ETag and length, and the write in them


@dataclass
class Stampede:
    encoding: str
    single: list[Burst] = field(default_factory=list)  # one request after a write
    many: list[Burst] = field(default_factory=list)  # ``--stampede`` requests after a write
    bare_single: list[Burst] = field(default_factory=list)  # the same against the bare app
    bare_many: list[Burst] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [m.seconds / s.seconds for s, m in zip(self.single, self.many, strict=True)]


@dataclass
class Busting:
    """Requests that each name another URL of the feed, and the server's memory around them."""

    name: str
    requests: int
    rss_start_kb: int  # before the warm-up
    rss_before_kb: int
    rss_after_kb: int
    entries_before: int
    entries_after: int
    cache_bytes_after: int
    seconds: float

    @property
    def growth_bytes(self) -> int:
        return (self.rss_after_kb - self.rss_before_kb) * 1024


@dataclass
class Result:
    kind: str
    events: int
    past: int
    build_s: float
    seed_s: float
    body_bytes: int
    gzip_bytes: int
    vevents: int
    zones: list[str]
    cold: dict[str, Cold]
    after_write: Cold
    write_ms: list[float]
    baseline: list[float]
    baseline_same: str
    routing_note: str
    sizes: dict[str, tuple[int, int]]  # filtered URL: identity and gzip bytes
    stampedes: list[Stampede]
    busting: list[Busting]
    budget_bytes: int
    warm: list[WarmCase]
    other: dict[str, float]  # phase: CPU of other processes meanwhile, in shares of one CPU


def cold_times(client: Client, variants: dict[str, dict[str, str]], n: int) -> dict[str, Cold]:
    """``n`` feed requests per variant (alternated), each after the rendered cache is emptied.

    One untimed warm-up round first. Each clear reports the build time of the request before it.
    """
    results = {name: Cold() for name in variants}
    previous: str | None = None
    for i in range(n + 1):
        for name, headers in variants.items():
            status, _, answer = client.request("POST", "/bench/clear?timed=1")
            assert status == 200, status
            report = json.loads(answer)
            if previous is not None:
                results[previous].builds_ms.extend(report["builds_ms"])
                results[previous].cleared.append(report["cleared"])
            t0 = time.perf_counter()
            status, _, _ = client.get(FEED_PATH, headers)
            elapsed = time.perf_counter() - t0
            assert status == 200, status
            previous = name if i else None
            if i:
                results[name].times.append(elapsed)
    status, _, answer = client.request("POST", "/bench/clear")
    report = json.loads(answer)
    if previous is not None:
        results[previous].builds_ms.extend(report["builds_ms"])
        results[previous].cleared.append(report["cleared"])
    client.request("POST", "/bench/untimed")
    return results


class Writer:
    """``PATCH /api/events/{slug}`` of one event's French title, through the API with an editor
    token, as an editor's tool does it. The title starts with a marker, so that the feed's
    SUMMARY line shows it before any folding."""

    def __init__(self, secret: str, targets: list[tuple[str, str]]) -> None:
        self.auth = {
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/merge-patch+json",
        }
        self.targets = targets
        self.rng = random.Random(SEED)
        self.count = 0
        self.times: list[float] = []

    def write(self, client: Client) -> bytes:
        """One write; the marker the feed must now show."""
        slug, title = self.rng.choice(self.targets)
        marker = f"MAJ{self.count:05d}X"
        self.count += 1
        body = json.dumps({"title": f"{marker} {title}"}).encode()
        t0 = time.perf_counter()
        status, _, answer = client.request("PATCH", f"/api/events/{slug}", self.auth, body)
        self.times.append(time.perf_counter() - t0)
        if status != 200:
            raise BadAnswer(f"PATCH {slug}: {status} {answer[:300]!r}")
        return marker.encode()


def after_writes(client: Client, writer: Writer, n: int) -> Cold:
    """``n`` pairs of a write then ``GET`` of the feed (identity): the feed a subscriber meets
    right after an editor's change. The build that each GET runs is timed in the server."""
    result = Cold()
    client.json("POST", "/bench/timed")
    for _ in range(n):
        marker = writer.write(client)
        t0 = time.perf_counter()
        status, _, body = client.get(FEED_PATH, {"Accept-Encoding": "identity"})
        result.times.append(time.perf_counter() - t0)
        assert status == 200, status
        result.fresh += marker in body
        result.builds_ms.extend(client.json("GET", "/bench/builds")["builds_ms"])
    client.json("POST", "/bench/untimed")
    return result


def burst(port: int, headers: dict[str, str], n: int, before: Callable[[], bytes]) -> Burst:
    """``before()`` (a write, which returns what the answers must show), then ``n`` concurrent
    ``GET`` of the feed, each on its own keep-alive connection (opened beforehand) in its own
    thread; the time from the end of ``before()`` to the last answer read whole.

    The first answer is read whole and checked; the others are read into a buffer of their
    thread and checked by status, ETag (the server's SHA-256 of the body) and length.
    """
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=600) for _ in range(n)]
    for connection in connections:
        connection.connect()
    gate = threading.Barrier(n + 1)
    finished = [0.0] * n
    seen: list[tuple[int, str | None, int]] = [(0, None, 0)] * n
    first = [b""]

    def fetch(i: int) -> None:
        gate.wait()
        connections[i].request("GET", FEED_PATH, headers=headers)
        response = connections[i].getresponse()
        if i == 0:
            first[0] = response.read()
            size = len(first[0])
        else:
            buffer, size = memoryview(bytearray(1 << 20)), 0
            while read := response.readinto(buffer):
                size += read
        finished[i] = time.perf_counter()
        seen[i] = (response.status, response.getheader("etag"), size)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    marker = before()
    began = time.perf_counter()
    gate.wait()
    for thread in threads:
        thread.join()
    seconds = max(finished) - began
    for connection in connections:
        connection.close()
    shown = gzip.decompress(first[0]) if headers.get("Accept-Encoding") == "gzip" else first[0]
    ok = all(x == seen[0] for x in seen) and seen[0][0] == 200 and marker in shown
    return Burst(n=n, seconds=seconds, builds_ms=[], all_ok=ok)


def stampede(
    port: int, client: Client, writer: Writer, encoding: str, n: int, rounds: int
) -> Stampede:
    """``rounds`` times: one cold request after a write (the reference), then ``n`` concurrent
    requests after another write, with the same encoding and connections opened the same way.
    The builds the server ran during each are counted (one is expected)."""
    result = Stampede(encoding)
    headers = {"Accept-Encoding": encoding}

    def write() -> bytes:
        client.json("POST", "/bench/timed")
        return writer.write(client)

    for _ in range(rounds):
        for size, into in ((1, result.single), (n, result.many)):
            done = burst(port, headers, size, write)
            done.builds_ms = client.json("POST", "/bench/untimed")["builds_ms"]
            into.append(done)
    return result


def stampede_floor(port: int, result: Stampede, n: int, rounds: int) -> None:
    """The same bursts against the bare app, which has the bytes ready: what the machine takes
    to carry ``n`` copies of the feed to ``n`` clients at once, with no build."""
    headers = {"Accept-Encoding": result.encoding}
    for _ in range(rounds):
        result.bare_single.append(burst(port, headers, 1, lambda: b""))
        result.bare_many.append(burst(port, headers, n, lambda: b""))


class OtherLoad:
    """The CPU that other processes use while a phase runs, as a share of one CPU: anything but
    this script and its servers, and but PostgreSQL's processes, which serve its queries."""

    def __init__(self, mine: list[Server]) -> None:
        self.mine = {os.getpid(), *(server.process.pid for server in mine)}
        self.before = self._spent()
        self.began = time.perf_counter()

    def _spent(self) -> dict[int, float]:
        seen = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in self.mine:
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1]
            parts = fields.split()
            if parts[1] == "2" or entry.name == "2" or name.startswith("postgres"):
                continue  # kernel threads; PostgreSQL
            seen[int(entry.name)] = (int(parts[11]) + int(parts[12])) / CLOCK_TICKS
        return seen

    def share(self) -> float:
        wall = time.perf_counter() - self.began
        now = self._spent()
        return max(0.0, sum(v - self.before.get(pid, 0.0) for pid, v in now.items()) / wall)


def rss_kb(pid: int) -> int:
    """The resident memory of a process (``VmRSS``), in kB."""
    found = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert found is not None
    return int(found.group(1))


def busting(
    name: str, client: Client, pid: int, queries: list[str], warm_up: int, headers: dict[str, str]
) -> Busting:
    """``warm_up`` requests, then the rest of ``queries`` one after the other (each a 200), with
    the server's RSS and the cache's entries read before and after them."""
    rss_start = rss_kb(pid)
    for query in queries[:warm_up]:
        status, _, _ = client.get(f"{FEED_PATH}?{query}", headers)
        assert status == 200, (status, query)
    before = client.json("GET", "/bench/cache")
    rss_before = rss_kb(pid)
    began = time.perf_counter()
    for query in queries[warm_up:]:
        status, _, body = client.get(f"{FEED_PATH}?{query}", headers)
        if status != 200:
            raise BadAnswer(f"{FEED_PATH}?{query}: {status} {body[:300]!r}")
    seconds = time.perf_counter() - began
    rss_after = rss_kb(pid)
    after = client.json("GET", "/bench/cache")
    return Busting(
        name=name,
        requests=len(queries) - warm_up,
        rss_start_kb=rss_start,
        rss_before_kb=rss_before,
        rss_after_kb=rss_after,
        entries_before=before["entries"],
        entries_after=after["entries"],
        cache_bytes_after=after["bytes"],
        seconds=seconds,
    )


def busting_queries(n: int, warm_up: int) -> dict[str, list[str]]:
    """``warm_up + n`` distinct queries of each kind: an unknown parameter (``cb=N``, no new
    entry), a random word for ``q`` (an entry each, small: no event has the word) and two
    letters for ``q`` (an entry each, most of them large: many events have them)."""
    rng = random.Random(SEED)
    words: set[str] = set()
    while len(words) < warm_up + n:
        words.add("".join(rng.choices(string.ascii_lowercase, k=8)))
    pairs = [a + b for a in string.ascii_lowercase for b in string.ascii_lowercase]
    rng.shuffle(pairs)
    return {
        "?cb=N (unknown parameter)": [f"cb={i}" for i in range(warm_up + n)],
        "?q=<random word>": [f"q={w}" for w in sorted(words)],
        "?q=<two letters>": [f"q={p}" for p in pairs[: warm_up + n]],
    }


def _sections(body: bytes) -> tuple[bytes, list[bytes], list[bytes]]:
    """A feed's header, its VTIMEZONE blocks and its VEVENT blocks."""
    text = body.replace(b"\r\n ", b"")  # unfold
    head = text.split(b"BEGIN:VTIMEZONE", 1)[0].split(b"BEGIN:VEVENT", 1)[0]
    zones = re.findall(rb"BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n", text, re.DOTALL)
    vevents = re.findall(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", text, re.DOTALL)
    return head, zones, vevents


def _rrule_parts_sorted(block: bytes) -> bytes:
    def sort_parts(found: re.Match[bytes]) -> bytes:
        return b"RRULE:" + b";".join(sorted(found.group(1).split(b";")))

    return re.sub(rb"(?m)^RRULE:([^\r\n]*)", sort_parts, block)


def compare_bodies(feed: bytes, baseline: bytes) -> str:
    """How the baseline's calendar compares with the service's feed."""
    if feed == baseline:
        return "byte-identical to the feed"
    f_head, f_zones, f_events = _sections(feed)
    b_head, b_zones, b_events = _sections(baseline)
    problems = []
    if f_head != b_head:
        problems.append("calendar properties differ")
    if f_events != b_events:
        differing = sum(1 for a, b in zip(f_events, b_events, strict=False) if a != b)
        problems.append(
            f"VEVENTs differ ({len(b_events):,} vs {len(f_events):,}, {differing:,} unequal)"
        )
    if f_zones != b_zones:
        if [_rrule_parts_sorted(z) for z in f_zones] == [_rrule_parts_sorted(z) for z in b_zones]:
            problems.append("VTIMEZONE RRULE parts in another order (icalendar re-serialises them)")
        else:
            problems.append("VTIMEZONEs differ")
    if f_head == b_head and f_events == b_events:
        problems.append("calendar properties and VEVENTs byte-identical")
    return f"{len(baseline):,} bytes vs {len(feed):,}: " + "; ".join(problems)


async def make_token(url: str) -> str:
    """An editor token for the writes (its secret)."""
    storage = Storage(url)
    await storage.connect()
    try:
        _, secret = await create_token(storage, name="bench", role="editor")
    finally:
        await storage.disconnect()
    return str(secret)


def warm_answers(port: int, query: str) -> dict[str, Answer]:
    """The warm answers to ``FEED_PATH?query`` (the second of each, when the gzip form is made):
    identity, gzip, and the 304 to the gzip ETag."""
    client = Client(port)
    path = f"{FEED_PATH}?{query}" if query else FEED_PATH
    gz = {"Accept-Encoding": "gzip"}
    for _ in range(2):
        identity = client.get(path)
        gzipped = client.get(path, gz)
    assert identity[0] == gzipped[0] == 200, (identity[0], gzipped[0])
    assert gzipped[1].get("content-encoding") == "gzip", gzipped[1]
    assert gzip.decompress(gzipped[2]) == identity[2], f"the gzipped {path} is not the feed"
    not_modified = client.get(path, {**gz, "If-None-Match": gzipped[1]["etag"]})
    assert not_modified[0] == 304, not_modified[0]
    client.close()
    return {"identity": identity, "gzip": gzipped, "304": not_modified}


def same_answer(a: Answer, b: Answer) -> bool:
    """The same status, body and headers (less ``date``, and the request id's value)."""
    varying = ("date", "x-request-id")
    return (
        a[0] == b[0]
        and a[2] == b[2]
        and a[1].keys() == b[1].keys()
        and {k: v for k, v in a[1].items() if k not in varying}
        == {k: v for k, v in b[1].items() if k not in varying}
    )


def measure(kind: str, url: str, args: argparse.Namespace, workdir: Path) -> Result:
    migrate(url)
    t0 = time.perf_counter()
    rows, past = build_rows(args.events, bench_settings(url))
    build_s = time.perf_counter() - t0
    seed_s = asyncio.run(seed(url, rows, bench_settings(url)))
    secret = asyncio.run(make_token(url))
    # Events to write to: in the feed, in its default language (French).
    targets = [(slug, event.title["fr"]) for event, _, _, slug in rows[: args.events : 7]]
    del rows
    gc.collect()
    print(
        f"  {kind}: {args.events + past:,} events ({args.events:,} in the feed, {past:,} past)"
        f" built in {build_s:.1f} s, stored in {seed_s:.1f} s",
        flush=True,
    )
    servers: list[Server] = []
    try:
        app = start_server(SCRIPT, "app", url)
        servers.append(app)
        client = Client(app.port)
        budget = client.json("GET", "/bench/cache")["budget_bytes"]
        status, h_routed, body = client.get(FEED_PATH)  # built: through routing
        assert status == 200, (status, body[:300])
        vevents = body.count(b"BEGIN:VEVENT\r\n")
        zones = sorted(set(re.findall(rb"BEGIN:VTIMEZONE\r\nTZID:([^\r]+)", body)))
        if vevents != args.events:
            print(f"  WARNING: the feed holds {vevents:,} VEVENTs, not {args.events:,}")

        # COLD (cache emptied), then BASELINE 1 (same connection, sequential).
        other: dict[str, float] = {}
        print(f"  cold: {args.cold_requests} requests, cache emptied before each", flush=True)
        load = OtherLoad(servers)
        cold = cold_times(
            client, {"identity": {}, "gzip": {"Accept-Encoding": "gzip"}}, args.cold_requests
        )
        print(f"  baseline: {args.baseline_requests} requests (+1 warm-up)", flush=True)
        status, _, first = client.get(BASELINE_PATH)
        assert status == 200, (status, first[:300])
        baseline_same = compare_bodies(body, first)
        baseline = []
        for _ in range(args.baseline_requests):
            t0 = time.perf_counter()
            status, _, _ = client.get(BASELINE_PATH)
            baseline.append(time.perf_counter() - t0)
            assert status == 200, status
        other["cold"] = load.share()

        # COLD AFTER A WRITE, then the STAMPEDE after a write.
        writer = Writer(secret, targets)
        print(f"  after a write: {args.writes} x (PATCH, then GET identity)", flush=True)
        load = OtherLoad(servers)
        written = after_writes(client, writer, args.writes)
        other["after a write"] = load.share()
        print(
            f"  stampede: {args.stampede_rounds} x (write + 1 GET, write + {args.stampede}"
            " concurrent GETs), identity then gzip",
            flush=True,
        )
        load = OtherLoad(servers)
        stampedes = [
            stampede(app.port, client, writer, encoding, args.stampede, args.stampede_rounds)
            for encoding in ("identity", "gzip")
        ]
        other["stampede"] = load.share()

        # The warm answers of each measured URL, for the bare app and the wrk runs.
        answers = {query: warm_answers(app.port, query) for query in FILTERS.values()}
        status, h_identity, _ = client.get(FEED_PATH)
        routing_note = header_differences(h_routed, h_identity, frozenset({"date", "x-request-id"}))
        skip = {"date", "server", "content-length"}
        variants = []
        for i, (query, answer) in enumerate(answers.items()):
            (workdir / f"feed-{i}.ics").write_bytes(answer["identity"][2])
            (workdir / f"feed-{i}.ics.gz").write_bytes(answer["gzip"][2])
            headers = {
                name: {k: v for k, v in a[1].items() if k not in skip} for name, a in answer.items()
            }
            variants.append({"query": query, "headers": headers})
        (workdir / "variants.json").write_text(json.dumps(variants))
        bare = start_server(SCRIPT, "bare", str(workdir))
        servers.append(bare)
        for query, answer in answers.items():
            path = f"{FEED_PATH}?{query}" if query else FEED_PATH
            etag = answer["gzip"][1]["etag"]
            asked: dict[str, dict[str, str]] = {
                "identity": {},
                "gzip": {"Accept-Encoding": "gzip"},
                "304": {"Accept-Encoding": "gzip", "If-None-Match": etag},
            }
            for name, asking in asked.items():
                to_app, to_bare = Client(app.port), Client(bare.port)
                a, b = to_app.get(path, asking), to_bare.get(path, asking)
                to_app.close()
                to_bare.close()
                assert same_answer(a, b), f"the bare app answers {path} ({name}) differently"
                assert same_answer(a, answer[name]), f"{path} ({name}) changed"

        # The stampede's floor: the same bursts against the bare app (the bytes of the last
        # write's feed, ready in memory).
        for s in stampedes:
            stampede_floor(bare.port, s, args.stampede, args.stampede_rounds)

        # WARM: wrk, each case twice, app/bare alternated (app, bare, then bare, app).
        cases = []
        for label, query in FILTERS.items():
            path = f"{FEED_PATH}?{query}" if query else FEED_PATH
            etag = answers[query]["gzip"][1]["etag"]
            if not query:
                cases.append(WarmCase(f"{label} identity", path, {}))
            cases.append(WarmCase(f"{label} gzip", path, {"Accept-Encoding": "gzip"}))
            cases.append(
                WarmCase(f"{label} 304", path, {"Accept-Encoding": "gzip", "If-None-Match": etag})
            )
        measure_warm(cases, app, bare, args, 20)

        # CACHE BUSTING, last: what it leaves in memory does not weigh on the other cases.
        print(
            f"  cache busting: {args.busting} distinct URLs per kind, after {BUSTING_WARM_UP}",
            flush=True,
        )
        client.close()
        client = Client(app.port)  # the server closed the idle one during the wrk runs
        busted = []
        load = OtherLoad(servers)
        for name, queries in busting_queries(args.busting, BUSTING_WARM_UP).items():
            encoding = "identity" if "two letters" in name else "gzip"
            busted.append(
                busting(
                    name,
                    client,
                    app.process.pid,
                    queries,
                    BUSTING_WARM_UP,
                    {"Accept-Encoding": encoding},
                )
            )
        other["busting"] = load.share()
        client.close()
        return Result(
            kind=kind,
            events=args.events,
            past=past,
            build_s=build_s,
            seed_s=seed_s,
            body_bytes=len(body),
            gzip_bytes=len(answers[""]["gzip"][2]),
            vevents=vevents,
            zones=[z.decode() for z in zones],
            cold=cold,
            after_write=written,
            write_ms=[t * 1000 for t in writer.times[: args.writes]],
            baseline=baseline,
            baseline_same=baseline_same,
            routing_note=routing_note,
            sizes={q: (len(a["identity"][2]), len(a["gzip"][2])) for q, a in answers.items()},
            stampedes=stampedes,
            busting=busted,
            budget_bytes=budget,
            warm=cases,
            other=other,
        )
    finally:
        for server in reversed(servers):
            stop_server(server)


# --- report -----------------------------------------------------------------------------------


@dataclass
class Verdict:
    """One line of the summary table."""

    case: str
    database: str
    measured: str
    target: str
    ok: bool


def verdicts(r: Result) -> list[Verdict]:
    label = LABELS[r.kind]
    base = median_ms(r.baseline)
    lines = []
    for name, cold, phase in (
        ("cold after a write, identity (median of GETs)", r.after_write, "after a write"),
        ("cold, cache emptied, identity", r.cold["identity"], "cold"),
        ("cold, cache emptied, gzip", r.cold["gzip"], "cold"),
    ):
        ratio = base / median_ms(cold.times)
        lines.append(
            Verdict(
                f"{name}: baseline / cold",
                label,
                f"{ratio:.1f}x ({median_ms(cold.times):.0f} vs {base:.0f} ms;"
                f" other {r.other[phase]:.0%})",
                f">= {COLD_TARGET:g}x",
                ratio >= COLD_TARGET,
            )
        )
    for s in r.stampedes:
        ratio = statistics.median(s.ratios())
        many = statistics.median(m.seconds for m in s.many) * 1000
        single = statistics.median(x.seconds for x in s.single) * 1000
        builds = max(len(m.builds_ms) for m in s.many)
        ok = all(b.all_ok for b in (*s.single, *s.many))
        # The same burst on the bare app, with no build, in units of the app's cold GET.
        floor = statistics.median(b.seconds for b in s.bare_many) * 1000
        lines.append(
            Verdict(
                f"stampede, {s.encoding}: {s.many[0].n} GETs / 1 GET after a write",
                label,
                f"{ratio:.2f}x ({many:.0f} vs {single:.0f} ms, {builds} build"
                f"{'s' if builds != 1 else ''}{'' if ok else ', ANSWERS WRONG'};"
                f" bare {floor:.0f} ms = {floor / single:.2f}x; other {r.other['stampede']:.0%})",
                f"<= {STAMPEDE_TARGET:g}x",
                ratio <= STAMPEDE_TARGET and ok,
            )
        )
    for b in r.busting:
        lines.append(
            Verdict(
                f"cache busting, {b.requests} x {b.name}: RSS growth",
                label,
                f"{b.growth_bytes / 1e6:+.1f} MB ({b.entries_before} -> {b.entries_after} entries;"
                f" other {r.other['busting']:.0%})",
                f"< {r.budget_bytes / 1e6:g} MB",
                b.growth_bytes < r.budget_bytes,
            )
        )
    for case in r.warm:
        busiest = max(x.other_share for x in (*case.app, *case.bare))
        lines.append(
            Verdict(
                f"warm {case.name}: app / bare req/s",
                label,
                f"{case.ratio():.3f} (other <= {busiest:.0%})",
                f">= {WARM_TARGET:.2f}",
                case.ratio() >= WARM_TARGET,
            )
        )
    return lines


def print_summary(results: list[Result]) -> None:
    lines = [v for r in results for v in verdicts(r)]
    width = max(len(v.case) for v in lines)
    measured = max(len(v.measured) for v in lines)
    head = f"{'case':<{width}}  {'database':<10}  {'measured':<{measured}}  {'target':<10}  verdict"
    print(head)
    print("-" * len(head))
    for v in lines:
        print(
            f"{v.case:<{width}}  {v.database:<10}  {v.measured:<{measured}}  {v.target:<10}"
            f"  {'OK' if v.ok else 'MISS'}"
        )


def report(r: Result, args: argparse.Namespace) -> None:
    label = LABELS[r.kind]
    print()
    print(f"=== {label}: GET {FEED_PATH} with {r.vevents:,} events in the feed ===")
    print(
        f"store: {r.events + r.past:,} events ({r.past:,} ended before the retention window),"
        f" seeded in {r.build_s + r.seed_s:.1f} s ({r.build_s:.1f} s parse_event/schedule_for"
        f" + {r.seed_s:.1f} s insert_many)"
    )
    print(
        f"feed: {r.body_bytes:,} bytes, {r.gzip_bytes:,} gzipped, {r.vevents:,} VEVENTs,"
        f" VTIMEZONEs {', '.join(r.zones)}; filtered: "
        + ", ".join(f"?{q} {size:,} ({gz:,} gzipped)" for q, (size, gz) in r.sizes.items() if q)
    )
    identity, gzipped = r.cold["identity"], r.cold["gzip"]
    base_median = median_ms(r.baseline)
    rebuilt = all(c >= 1 for c in (*identity.cleared, *gzipped.cleared))
    print()
    print(
        f"{'COLD / BASELINE (sequential, one connection)':<58} {'median':>10} {'p95':>10}"
        f"   {'server-side build: median':>25}"
    )
    for name, cold in (
        ("after a write, identity", r.after_write),
        ("cache emptied, identity", identity),
        ("cache emptied, Accept-Encoding: gzip", gzipped),
    ):
        print(
            f"{'cold, ' + name + ' (' + str(len(cold.times)) + ' requests)':<58}"
            f" {median_ms(cold.times):8.1f}ms {p95_ms(cold.times):8.1f}ms"
            f"   {statistics.median(cold.builds_ms):23.1f}ms"
        )
    print(
        f"{'baseline 1: icalendar objects (' + str(len(r.baseline)) + ' requests)':<58}"
        f" {base_median:8.1f}ms {p95_ms(r.baseline):8.1f}ms"
    )
    for name, cold in (
        ("after a write", r.after_write),
        ("cache emptied, identity", identity),
        ("cache emptied, gzip", gzipped),
    ):
        ratio = base_median / median_ms(cold.times)
        print(
            f"{'ratio baseline / cold, ' + name:<58} {ratio:9.1f}x"
            f"  target >= {COLD_TARGET:g}x  {verdict(ratio >= COLD_TARGET)}"
        )
    print(
        f"  writes: PATCH median {statistics.median(r.write_ms):.1f} ms; the GET after it showed"
        f" the write: {r.after_write.fresh}/{len(r.after_write.times)}"
    )
    print(
        "  each cold request followed a cache clear that dropped an entry:"
        f" {'yes' if rebuilt else 'NO'}; baseline body: {r.baseline_same}"
    )
    if r.routing_note:
        print(f"  NOTE headers of the first (built) answer vs a warm one: {r.routing_note}")
    print()
    print(
        "STAMPEDE (a write, then N GETs at once, each on its own open keep-alive connection and"
        " thread; time from the end of the write to the last answer read whole; the reference"
        " is N = 1 right before, same encoding; builds = server-side builds during the burst)"
    )
    for s in r.stampedes:
        for i, (one, many, ratio) in enumerate(zip(s.single, s.many, s.ratios(), strict=True)):
            print(
                f"  {s.encoding:<8} round {i + 1}: 1 GET {one.seconds * 1000:7.1f} ms"
                f" (builds {one.builds_ms} ms), {many.n} GETs {many.seconds * 1000:7.1f} ms"
                f" (builds {many.builds_ms} ms), ratio {ratio:.2f}x"
                f"{'' if one.all_ok and many.all_ok else '  ANSWERS WRONG'}"
            )
        one_ms = statistics.median(b.seconds for b in s.bare_single) * 1000
        many_ms = statistics.median(b.seconds for b in s.bare_many) * 1000
        print(
            f"  {s.encoding:<8} bare app (same bytes from memory, no build; median of"
            f" {len(s.bare_many)}): 1 GET {one_ms:7.1f} ms, {s.bare_many[0].n} GETs"
            f" {many_ms:7.1f} ms, ratio {many_ms / one_ms:.2f}x"
            f"{'' if all(b.all_ok for b in s.bare_many) else '  WRONG'}"
        )
    print()
    print(
        f"CACHE BUSTING (CALENDAR_CACHE_BYTES = {r.budget_bytes:,}; the server's VmRSS before"
        f" and after, after {BUSTING_WARM_UP} requests of the same kind; sequential)"
    )
    for b in r.busting:
        print(
            f"  {b.requests} x {b.name:<27} RSS {b.rss_before_kb / 1024:7.1f} ->"
            f" {b.rss_after_kb / 1024:7.1f} MiB ({b.growth_bytes / 1e6:+.1f} MB;"
            f" {(b.rss_after_kb - b.rss_start_kb) * 1024 / 1e6:+.1f} MB with the warm-up);"
            f" cache {b.entries_before} -> {b.entries_after} entries,"
            f" {b.cache_bytes_after / 1e6:.1f} MB held; {b.seconds:.1f} s"
        )
    print()
    print(
        "OTHER PROCESSES (CPU used meanwhile by other processes, PostgreSQL's left out, in shares"
        " of one CPU): " + ", ".join(f"{phase} {share:.0%}" for phase, share in r.other.items())
    )
    if max(r.other.values()) > OTHER_LOAD_WARNING:
        print(
            "WARNING: other processes were busy during the cold phases: their figures are disturbed"
        )
    print()
    print(
        f"WARM (wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency;"
        " run 1 = app then bare, run 2 = bare then app; CPU = the server process's user+system"
        " time per request, and its share of the run's wall time; other = CPU used meanwhile by"
        " other user processes (tests...), the larger of the app and bare runs', in shares of"
        " one CPU)"
    )
    print_warm_table(r.warm, WARM_TARGET, 18)
    print_warm_warnings(r.warm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="events in the feed")
    parser.add_argument("--databases", default="sqlite", help="sqlite and/or postgresql")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--cold-requests", type=int, default=20)
    parser.add_argument("--baseline-requests", type=int, default=5)
    parser.add_argument("--writes", type=int, default=5, help="(write, GET) pairs")
    parser.add_argument("--stampede", type=int, default=64, help="concurrent GETs after a write")
    parser.add_argument("--stampede-rounds", type=int, default=3)
    parser.add_argument(
        "--busting", type=int, default=600, help="distinct URLs per cache-busting kind"
    )
    parser.add_argument(
        "--cache-bytes", type=int, default=64_000_000, help="CALENDAR_CACHE_BYTES of the server"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 events, 3 s wrk runs, 10 cold requests"
    )
    parser.add_argument("--serve", nargs=2, metavar=("APP", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(*args.serve)
    if args.quick:
        args.events, args.duration, args.cold_requests, args.baseline_requests = 2_000, 3, 10, 3
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if not kinds or any(k not in ("sqlite", "postgresql") for k in kinds) or args.events < 1:
        parser.error("--databases takes sqlite and/or postgresql; --events at least 1")
    if not 1 <= args.busting <= 26 * 26 - BUSTING_WARM_UP:
        parser.error(f"--busting takes 1 to {26 * 26 - BUSTING_WARM_UP}")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install -y wrk)")
    os.environ["CALENDAR_CACHE_BYTES"] = str(args.cache_bytes)  # for the servers

    stop_on_sigterm()
    cleanup = Cleanup(Path(tempfile.mkdtemp(prefix="calendar-bench-feeds-")))
    print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs", flush=True)
    try:
        results = []
        for kind in kinds:
            result = run_database(kind, "feeds", measure, args, cleanup)
            if result is not None:
                results.append(result)
        for result in results:
            report(result, args)
        if results:
            print()
            print(f"=== SUMMARY ({args.events:,} events in the feed) ===")
            print_summary(results)
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
    finally:
        cleanup.everything()
    return 0


if __name__ == "__main__":
    sys.exit(main())
