"""Newsletter benchmark: what a 200-event digest (``GET /newsletter/agenda.{html,txt}``) costs.

Seeds a store (SQLite file in a temporary folder; optionally a throwaway PostgreSQL database)
with 200 published events whose occurrences all fall in one 31-day window ahead, plus events
the digest must leave out, serves the real app with uvicorn in a subprocess (one worker,
127.0.0.1, a free port) and a bare Starlette app in another subprocess that returns the same
digest bytes from memory, then measures the French digest of that window, as HTML and as text:

- COLD, first request after the server starts (a new server process for each request):
  nothing is cached, every block is rendered;
- COLD, caches emptied in a running server (the rendered-digest cache and the block cache);
- COLD after a write: ``PATCH`` one event's title through the API, then ask for the digest:
  it must be rebuilt and show the new title, with the 199 other blocks from the block cache;
- WARM: ``wrk`` against the cached digest (identity, ``Accept-Encoding: gzip`` and the 304 of
  ``If-None-Match``) and against the bare app answering the same requests with the same bytes
  and headers. Target: app requests/s >= 0.70 x bare.

    cd /work/main && .venv/bin/python benchmarks/bench_newsletter.py --quick   # 3 s wrk runs
    .venv/bin/python benchmarks/bench_newsletter.py                            # 10 s wrk runs
    .venv/bin/python benchmarks/bench_newsletter.py --databases sqlite,postgresql

The exit code is 1 when an answer is not the expected status (200, or 304 for a revalidation)
or is empty, or when the digest does not hold the 200 events; the verdicts do not change it.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import (
    FEEDS_DIR,
    Answer,
    BadAnswer,
    Client,
    Row,
    Server,
    WarmCase,
    header_differences,
    measure_warm,
    median_ms,
    print_warm_table,
    print_warm_warnings,
    run_database,
    serve_app,
    start_server,
    stop_on_sigterm,
    stop_server,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from throwaway import Cleanup

from calendar_service.app import create_app
from calendar_service.cache import Rendered, RenderedCache
from calendar_service.dates import epoch, utc_now, zone
from calendar_service.db.connection import Storage, migrate
from calendar_service.db.events import default_slug, insert_many
from calendar_service.db.tokens import create_token
from calendar_service.digests import BlockCache
from calendar_service.normalise import parse_event
from calendar_service.render.ical import RenderContext, renderer
from calendar_service.schedule import schedule_for
from calendar_service.settings import Settings

SCRIPT = Path(__file__)  # run again with --serve app|bare for the servers
FEED_SLUG = "agenda"  # feeds/agenda.toml: no filter, every published event
LANG = "fr"
FORMATS = ("html", "txt")
EVENTS = 200  # published events in the window: the digest's blocks
WINDOW_DAYS = 31
WINDOW_AHEAD_DAYS = 14  # the window starts this many days after today (Europe/Paris)
WARM_TARGET = 0.70  # app requests/s / bare requests/s
SEED = 20_260_404
TIMEZONE = "Europe/Paris"
# Headers that differ between a built answer and a cached one, as they should.
ROUTING_IGNORED = frozenset({"date", "last-modified"})


# --- documents --------------------------------------------------------------------------------

CATEGORIES = [
    "concert", "projection", "exposition", "spectacle", "mobilisation", "conference",
    "atelier", "permanence", "rencontre", "concours", "collecte", "autre",
]  # fmt: skip
KINDS = {
    "concert": ("Concert solidaire", "Solidarity concert"),
    "projection": ("Projection-débat « Les Routes de l'exil »", "Screening “Exile roads”"),
    "exposition": ("Exposition", "Exhibition"),
    "spectacle": ("Spectacle", "Show"),
    "mobilisation": ("Rassemblement", "Rally"),
    "conference": ("Conférence", "Talk"),
    "atelier": ("Atelier d'écriture", "Writing workshop"),
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
]  # fmt: skip
TAGS = [
    "solidarite", "exil", "asile", "jeunesse", "femmes", "musique", "cinema", "theatre",
    "droits-humains", "logement", "sante", "education", "francais", "famille", "benevolat",
    "accueil", "frontieres", "memoire", "debat", "gratuit",
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
]  # fmt: skip
ORGANIZERS = [
    ("France terre d'asile", "https://www.france-terre-asile.org"),
    ("La Cimade", "https://www.lacimade.org"),
    ("Secours catholique", "https://www.secours-catholique.org"),
    ("Forum réfugiés", "https://www.forumrefugies.org"),
    ("Collectif Cause Majeur !", "https://example.org/cause-majeur"),
    ("Emmaüs Solidarité", "https://www.emmaus-solidarite.org"),
]  # fmt: skip
PARTNERS = ["ALIMA", "Utopia 56", "Médecins du monde", "Radio Zinzine", "Ville de Lyon"]
FR_SENTENCES = [
    "Un temps d'échange, de témoignages et de convivialité, ouvert à toutes et à tous.",
    "Les bénévoles de l'association présenteront leurs actions de l'année écoulée.",
    "La rencontre sera suivie d'un repas partagé : chacun·e apporte un plat.",
    "Interprétariat en arabe, en dari et en anglais sur place ; garde d'enfants possible.",
    "Des juristes répondront à vos questions sur les titres de séjour et le droit d'asile.",
    "Entrée libre dans la limite des places disponibles, inscription conseillée.",
]  # fmt: skip
EN_SENTENCES = [
    "A time for sharing, testimonies and friendship, open to everyone.",
    "The association's volunteers will present this year's work.",
    "The meeting is followed by a shared meal: bring a dish.",
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
        default_timezone=TIMEZONE,
        brand_logo_url="https://example.org/logo.png",
    )


def window(today: date) -> tuple[date, date]:
    """The digest's window: 31 days, both ends included, starting two weeks ahead."""
    first = today + timedelta(days=WINDOW_AHEAD_DAYS)
    return first, first + timedelta(days=WINDOW_DAYS - 1)


def _description(n: int, organizer: tuple[str, str], place: tuple[Any, ...], fr: bool) -> str:
    """Markdown of a few hundred characters: emphasis, a link, sometimes a list or a heading."""
    rng = random.Random(n)
    sentences = FR_SENTENCES if fr else EN_SENTENCES
    picked = rng.sample(range(len(sentences)), 2 + n % 3)
    intro = (
        f"**{organizer[0]}** vous donne rendez-vous à {place[0]} ({place[3]})."
        if fr
        else f"**{organizer[0]}** invites you to {place[0]} ({place[3]})."
    )
    parts = [intro, " ".join(sentences[i] for i in picked)]
    if n % 2 == 0:
        heading = "### Au programme" if fr else "### Programme"
        items = (
            ["accueil *à partir de 18 h*", "témoignages", "débat avec la salle"]
            if fr
            else ["doors open *from 6 pm*", "testimonies", "open discussion"]
        )
        parts.append((heading + "\n\n" if n % 6 == 0 else "") + "\n".join(f"- {i}" for i in items))
    more = "Programme complet" if fr else "Full programme"
    parts.append(f"[{more}]({organizer[1]}/agenda/{n})")
    return "\n\n".join(parts)


def event_document(n: int, day: date, *, kind: str, state: str = "published") -> dict[str, Any]:
    """A varied event document: ``kind`` is single, weekly (recurring) or allday."""
    rng = random.Random(SEED + n)
    category = CATEGORIES[n % len(CATEGORIES)]
    mayotte = kind == "single" and n % 25 == 3
    place = MAYOTTE_PLACES[n % 2] if mayotte else PLACES[n % len(PLACES)]
    organizer = ORGANIZERS[n % len(ORGANIZERS)]
    subject_fr, subject_en = SUBJECTS[(n // len(CATEGORIES)) % len(SUBJECTS)]
    kind_fr, kind_en = KINDS[category]
    title_fr = f"{kind_fr} {subject_fr} à {place[3]}"
    bilingual = n % 3 != 2
    doc: dict[str, Any] = {
        "title": {"fr": title_fr, "en": f"{kind_en} {subject_en} in {place[3]}"}
        if bilingual
        else title_fr,
        "description": {"fr": _description(n, organizer, place, True)},
        "category": category,
        "tags": rng.sample(TAGS, 1 + n % 4),
        "price": {
            "fr": ["Entrée libre", "Gratuit, sur inscription", "Prix libre : 5 à 10 €"][n % 3]
        },
        "state": state,
    }
    if bilingual:
        doc["description"]["en"] = _description(n, organizer, place, False)
        doc["price"]["en"] = ["Free entry", "Free, registration required", "Pay what you can"][
            n % 3
        ]
    if n % 3 != 0:  # the others' summary comes from the description
        doc["summary"] = {"fr": f"{kind_fr} {subject_fr}, ouvert à toutes et à tous."}
        if bilingual:
            doc["summary"]["en"] = f"{kind_en} {subject_en}, open to everyone."
    mode = "in_person"
    if n % 13 == 4:
        mode = "online" if n % 2 else "mixed"
    if mode != "in_person":
        doc["attendance_mode"] = mode
        doc["online_url"] = f"https://visio.example.org/{category}-{n}"
    if mode != "online":
        doc["location"] = {
            "name": place[0],
            "address": place[1],
            "postal_code": place[2],
            "city": place[3],
            "country": "FR",
            "lat": place[4],
            "lon": place[5],
        }
    if n % 6 != 5:
        doc["organizer"] = {"name": organizer[0], "url": organizer[1]}
    partners: list[dict[str, str]] = []
    if n % 4 == 0:
        partners.append({"name": ORGANIZERS[(n + 1) % len(ORGANIZERS)][0], "role": "partner"})
    if n % 8 == 2:
        partners.append({"name": PARTNERS[n % len(PARTNERS)], "role": "sponsor"})
        partners.append({"name": "ALIMA", "role": "beneficiary"})
    if n % 12 == 6:
        partners.append({"name": "Radio Zinzine", "role": "media"})
        partners.append({"name": "Utopia 56", "role": "co_organizer"})
    if partners:
        doc["partners"] = partners
    if n % 5 != 4:
        doc["url"] = f"{organizer[1]}/agenda/{n}"
    if n % 7 == 0:
        doc["registration_url"] = f"{organizer[1]}/inscription/{n}"
    if n % 5 == 0:
        scheme = "http" if n % 15 == 0 else "https"  # http images are rewritten to https
        doc["image"] = {"url": f"{scheme}://example.org/images/{n}.jpg", "alt": {"fr": title_fr}}
        if n % 10 == 0:
            doc["image"].update(width=1200, height=675)
    if n % 9 == 0:
        doc["accessibility"] = {"features": ["wheelchair"]}
    status = {7: "cancelled", 17: "postponed", 27: "full", 37: "moved_online"}.get(n % 40)
    if status:
        doc["status"] = status
    if mayotte:
        doc["timezone"] = "Indian/Mayotte"
    hour = rng.randrange(9, 21)
    minute = rng.choice((0, 15, 30))
    start = datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute)
    if kind == "allday":
        doc.update(
            start=day.isoformat(),
            end=(day + timedelta(days=1 + n % 2)).isoformat(),
            all_day=True,
        )
    else:
        end = start + timedelta(minutes=rng.choice((60, 90, 120, 150)))
        doc.update(start=start.isoformat(), end=end.isoformat())
    if kind == "weekly":
        count = 4 + n % 2  # starts in the window's first 3 days: every occurrence is in it
        doc["recurrence"] = {"rrule": f"FREQ=WEEKLY;COUNT={count}"}
        if n % 20 == 0:  # one week off
            doc["recurrence"]["exdates"] = [(start + timedelta(days=14)).isoformat()]
    return doc


@dataclass
class Seeded:
    secret: str  # an editor token's secret, for the writes
    first: date
    last: date
    in_window: list[str]  # the slugs of the 200 events of the digest
    titles: dict[str, str]  # their French titles
    stored: int  # events in the store, the digest's and the others
    occurrences: int  # occurrences of the 200 events (all in the window)
    seconds: float


def build_rows(settings: Settings, first: date) -> tuple[list[Row], list[str], int]:
    """The 200 events of the digest, then 60 it must leave out (before or after the window,
    drafts and pending ones inside it); the digest's slugs; their occurrence count."""
    rng = random.Random(SEED)
    rows: list[Row] = []
    in_window: list[str] = []
    occurrences = 0
    plan: list[tuple[int, str, str]] = []  # (day offset from ``first``, kind, state)
    for n in range(EVENTS):
        if n % 10 == 0:
            plan.append((rng.randrange(0, 3), "weekly", "published"))
        elif n % 10 == 5:
            plan.append((rng.randrange(0, WINDOW_DAYS - 3), "allday", "published"))
        else:
            plan.append((rng.randrange(0, WINDOW_DAYS), "single", "published"))
    plan += [(rng.randrange(-WINDOW_AHEAD_DAYS + 2, -1), "single", "published") for _ in range(20)]
    plan += [(rng.randrange(WINDOW_DAYS + 1, 120), "single", "published") for _ in range(20)]
    plan += [(rng.randrange(0, WINDOW_DAYS), "single", "draft") for _ in range(10)]
    plan += [(rng.randrange(0, WINDOW_DAYS), "single", "pending") for _ in range(10)]
    for n, (offset, kind, state) in enumerate(plan):
        day = first + timedelta(days=offset)
        event = parse_event(event_document(n, day, kind=kind, state=state), settings)
        schedule = schedule_for(event, settings)
        slug = f"{default_slug(event, settings.default_language)}-{n}"
        rows.append((event, schedule, f"bench-newsletter-{n}@bench", slug))
        if n < EVENTS:
            in_window.append(slug)
            occurrences += len(schedule.occurrences)
    return rows, in_window, occurrences


async def seed(url: str) -> Seeded:
    """Store the events with ``insert_many`` (VEVENTs rendered as on every write) and make an
    editor token."""
    settings = bench_settings(url)
    today = utc_now().astimezone(zone(TIMEZONE)).date()
    first, last = window(today)
    began = time.perf_counter()
    rows, in_window, occurrences = build_rows(settings, first)
    storage = Storage(url)
    await storage.connect()
    try:
        await insert_many(
            storage, rows=rows, render=renderer(RenderContext.from_settings(settings))
        )
        if storage.kind != "sqlite":
            await storage.execute("ANALYZE")
        _, secret = await create_token(storage, name="bench", role="editor")
    finally:
        await storage.disconnect()
    titles = {slug: row[0].title["fr"] for slug, row in zip(in_window, rows, strict=False)}
    lo, hi = (
        epoch(datetime.combine(first, datetime.min.time(), zone(TIMEZONE))),
        epoch(datetime.combine(last + timedelta(days=1), datetime.min.time(), zone(TIMEZONE))),
    )
    outside = [
        o
        for row in rows[:EVENTS]
        for o in row[1].occurrences
        if not (lo <= o.start and o.end <= hi)
    ]
    if outside:
        raise RuntimeError(f"{len(outside)} occurrences of the digest's events are not in it")
    return Seeded(
        secret=secret,
        first=first,
        last=last,
        in_window=in_window,
        titles=titles,
        stored=len(rows),
        occurrences=occurrences,
        seconds=time.perf_counter() - began,
    )


def digest_path(fmt: str, first: date, last: date) -> str:
    return (
        f"/newsletter/{FEED_SLUG}.{fmt}?from={first.isoformat()}&to={last.isoformat()}&lang={LANG}"
    )


# --- servers (this file run with --serve app|bare, in a subprocess) ---------------------------


def benchmark_app(url: str) -> Starlette:
    """The real app, plus routes mounted for the benchmark only (after all of its own).

    The handlers' ``rendered.get`` is wrapped on this instance to count the requests that got
    past the pre-routing cache and to time the builds; warm answers never call it.
    """
    app = create_app(bench_settings(url))
    cache: RenderedCache = app.state.rendered
    blocks: BlockCache = app.state.blocks
    builds: list[float] = []
    routed = [0]
    original_get = cache.get

    async def counted_get(
        storage: Storage, key: Hashable, build: Callable[[int], Awaitable[Rendered]]
    ) -> Rendered:
        routed[0] += 1

        async def timed_build(version: int) -> Rendered:
            began = time.perf_counter()
            try:
                return await build(version)
            finally:
                builds.append(time.perf_counter() - began)

        return await original_get(storage, key, timed_build)

    cache.get = counted_get  # type: ignore[method-assign]

    async def stats(request: Request) -> Response:
        """The block cache's counters, the requests routed to a handler so far, and the build
        times (ms) since the last call."""
        done = [round(b * 1000, 3) for b in builds]
        builds.clear()
        return JSONResponse(
            {
                "hits": blocks.hits,
                "misses": blocks.misses,
                "blocks": len(blocks._blocks),
                "entries": len(cache._entries),
                "routed": routed[0],
                "builds_ms": done,
            }
        )

    async def clear(request: Request) -> Response:
        """Empty the rendered cache, and with ``?blocks=1`` the block cache too."""
        entries = len(cache._entries)
        cache.clear()
        if request.query_params.get("blocks"):
            blocks._blocks.clear()
        return JSONResponse({"cleared": entries})

    async def ready(request: Request) -> Response:
        return JSONResponse({"ok": True})

    app.router.routes.extend(
        [
            Route("/bench/stats", stats, methods=["GET"]),
            Route("/bench/clear", clear, methods=["POST"]),
            Route("/bench/ready", ready, methods=["GET"]),
        ]
    )
    return app


def bare_app(folder: Path) -> Starlette:
    """One route answering the digests' paths with the app's bytes and headers from memory.

    The headers are the app's own warm answers' (content type included), less ``date``,
    ``server`` and ``content-length``, which uvicorn and Starlette add.
    """
    spec = json.loads((folder / "headers.json").read_text())
    answers: dict[str, tuple[bytes, bytes, dict[str, dict[str, str]]]] = {
        f"{FEED_SLUG}.{fmt}": (
            (folder / f"digest.{fmt}").read_bytes(),
            (folder / f"digest.{fmt}.gz").read_bytes(),
            spec[fmt],
        )
        for fmt in FORMATS
    }

    async def digest(request: Request) -> Response:
        body, gzipped, headers = answers[request.path_params["name"]]
        if request.headers.get("if-none-match") is not None:
            return Response(status_code=304, headers=headers["304"])
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            return Response(gzipped, headers=headers["gzip"])
        return Response(body, headers=headers["identity"])

    async def ready(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/newsletter/{name}", digest, methods=["GET"]),
            Route("/bench/ready", ready),
        ]
    )


def serve(which: str, target: str) -> int:
    """Subprocess entry (``--serve app URL`` or ``--serve bare FOLDER``): serve until SIGTERM."""
    return serve_app(benchmark_app(target) if which == "app" else bare_app(Path(target)))


# --- client -----------------------------------------------------------------------------------


def expect(answer: Answer, what: str, status: int = 200) -> Answer:
    """``answer`` if it has ``status`` and, for a 200, a body; ``BadAnswer`` otherwise."""
    got, _, body = answer
    if got != status:
        raise BadAnswer(f"{what}: status {got}, expected {status}: {body[:300]!r}")
    if status == 200 and not body:
        raise BadAnswer(f"{what}: empty body")
    return answer


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Cold:
    """Cold requests of one kind and format: client-side seconds, server-side builds (ms),
    blocks rendered and blocks taken from the block cache per request."""

    times: list[float] = field(default_factory=list)
    builds_ms: list[float] = field(default_factory=list)
    rendered: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)


def timed_digest(client: Client, path: str, what: str) -> tuple[float, bytes, dict[str, Any]]:
    """One digest request, timed, and the server's counters' change over it."""
    before = client.json("GET", "/bench/stats")
    t0 = time.perf_counter()
    answer = client.get(path)
    elapsed = time.perf_counter() - t0
    expect(answer, what)
    after = client.json("GET", "/bench/stats")
    delta = {
        "rendered": after["misses"] - before["misses"],
        "reused": after["hits"] - before["hits"],
        "routed": after["routed"] - before["routed"],
        "builds_ms": after["builds_ms"],
    }
    return elapsed, answer[2], delta


def record(cold: Cold, elapsed: float, delta: dict[str, Any]) -> None:
    cold.times.append(elapsed)
    cold.builds_ms.extend(delta["builds_ms"])
    cold.rendered.append(delta["rendered"])
    cold.reused.append(delta["reused"])


@dataclass
class Result:
    kind: str
    seeded: Seeded
    body_bytes: dict[str, int]
    gzip_bytes: dict[str, int]
    blocks: int
    starts: dict[str, Cold]
    emptied: dict[str, Cold]
    written: dict[str, Cold]
    start_bodies: dict[str, int]  # distinct first-request bodies across the server starts
    changed: int  # writes after which both digests changed and showed the new title
    writes: int
    write_ms: list[float]
    routing_note: str
    routed_warm: int  # requests that got past the pre-routing cache during the wrk runs
    warm: list[WarmCase]


def measure(kind: str, url: str, args: argparse.Namespace, workdir: Path) -> Result:
    migrate(url)
    seeded = asyncio.run(seed(url))
    paths = {fmt: digest_path(fmt, seeded.first, seeded.last) for fmt in FORMATS}
    print(
        f"  {kind}: {seeded.stored} events stored ({EVENTS} in the window"
        f" {seeded.first}..{seeded.last}, {seeded.occurrences} occurrences) in"
        f" {seeded.seconds:.1f} s",
        flush=True,
    )

    # COLD: the first request of a new server process, one format per process.
    print(
        f"  cold: first request after a server start, {args.cold_starts} starts per format",
        flush=True,
    )
    starts = {fmt: Cold() for fmt in FORMATS}
    first_bodies: dict[str, set[bytes]] = {fmt: set() for fmt in FORMATS}
    for i in range(args.cold_starts):
        for fmt in FORMATS if i % 2 == 0 else FORMATS[::-1]:
            server = start_server(SCRIPT, "app", url)
            try:
                client = Client(server.port)
                elapsed, body, delta = timed_digest(client, paths[fmt], f"cold {fmt}")
                client.close()
            finally:
                stop_server(server)
            record(starts[fmt], elapsed, delta)
            first_bodies[fmt].add(body)
    blocks = starts["html"].rendered[0]

    servers: list[Server] = []
    try:
        app = start_server(SCRIPT, "app", url)
        servers.append(app)
        client = Client(app.port)
        # The first answer of each format in this process (built, through routing) and the
        # second (from the cache, before routing), for the header note.
        routing_notes = []
        for fmt in FORMATS:
            routed = expect(client.get(paths[fmt]), f"first {fmt}")
            cached = expect(client.get(paths[fmt]), f"second {fmt}")
            if routed[2] != cached[2]:
                raise BadAnswer(f"the second {fmt} digest differs from the first")
            if note := header_differences(routed[1], cached[1], ROUTING_IGNORED):
                routing_notes.append(f"{fmt}: {note}")

        # COLD: both caches emptied in the running process, before each request.
        print(
            f"  cold: caches emptied before each of {args.emptied} requests per format", flush=True
        )
        emptied = {fmt: Cold() for fmt in FORMATS}
        for i in range(args.emptied):
            for fmt in FORMATS if i % 2 == 0 else FORMATS[::-1]:
                client.json("POST", "/bench/clear?blocks=1")
                elapsed, body, delta = timed_digest(client, paths[fmt], f"emptied {fmt}")
                record(emptied[fmt], elapsed, delta)

        # COLD after a write: PATCH one event's French title, then each digest (both warm
        # before the write, so the block cache holds the other 199 blocks of each).
        print(
            f"  cold: {args.writes} writes to one event, each followed by both digests", flush=True
        )
        written = {fmt: Cold() for fmt in FORMATS}
        previous = {fmt: expect(client.get(paths[fmt]), f"warm {fmt}")[2] for fmt in FORMATS}
        rng = random.Random(SEED)
        changed, write_ms = 0, []
        auth = {
            "Authorization": f"Bearer {seeded.secret}",
            "Content-Type": "application/merge-patch+json",
        }
        for i in range(args.writes):
            slug = rng.choice(seeded.in_window)
            marker = f"MAJ{i:04d}X"
            patch = json.dumps({"title": f"{seeded.titles[slug]} {marker}"}).encode()
            t0 = time.perf_counter()
            expect(client.request("PATCH", f"/api/events/{slug}", auth, patch), f"PATCH {slug}")
            write_ms.append((time.perf_counter() - t0) * 1000)
            both = True
            for fmt in FORMATS if i % 2 == 0 else FORMATS[::-1]:
                elapsed, body, delta = timed_digest(client, paths[fmt], f"{fmt} after a write")
                record(written[fmt], elapsed, delta)
                both = both and body != previous[fmt] and marker.encode() in body
                previous[fmt] = body
            changed += both

        # The warm answers (the second of each: the gzip form is made by then).
        gz = {"Accept-Encoding": "gzip"}
        warm: dict[str, dict[str, Answer]] = {}
        for fmt in FORMATS:
            for _ in range(2):
                identity = expect(client.get(paths[fmt]), f"warm {fmt}")
                gzipped = expect(client.get(paths[fmt], gz), f"warm gzip {fmt}")
            if identity[2] != previous[fmt]:
                raise BadAnswer(f"the warm {fmt} digest is not the last one built")
            if gzipped[1].get("content-encoding") != "gzip":
                raise BadAnswer(f"the gzip {fmt} answer is not gzipped: {gzipped[1]}")
            if gzip.decompress(gzipped[2]) != identity[2]:
                raise BadAnswer(f"the gzipped {fmt} digest is not the digest")
            etag = gzipped[1]["etag"]
            not_modified = expect(
                client.get(paths[fmt], {**gz, "If-None-Match": etag}), f"304 {fmt}", 304
            )
            warm[fmt] = {"identity": identity, "gzip": gzipped, "304": not_modified}

        # The bare app: the same bytes and headers, from memory.
        skip = {"date", "server", "content-length"}
        spec = {}
        for fmt in FORMATS:
            (workdir / f"digest.{fmt}").write_bytes(warm[fmt]["identity"][2])
            (workdir / f"digest.{fmt}.gz").write_bytes(warm[fmt]["gzip"][2])
            spec[fmt] = {
                name: {k: v for k, v in answer[1].items() if k not in skip}
                for name, answer in warm[fmt].items()
            }
        (workdir / "headers.json").write_text(json.dumps(spec))
        bare = start_server(SCRIPT, "bare", str(workdir))
        servers.append(bare)
        bare_client = Client(bare.port)
        cases: list[WarmCase] = []
        for fmt in FORMATS:
            etag = warm[fmt]["gzip"][1]["etag"]
            fmt_cases = [
                WarmCase(f"{fmt} identity", paths[fmt], {}),
                WarmCase(f"{fmt} gzip", paths[fmt], dict(gz)),
                WarmCase(f"{fmt} 304", paths[fmt], {**gz, "If-None-Match": etag}),
            ]
            for case in fmt_cases:
                a = client.get(paths[fmt], case.headers)
                b = bare_client.get(paths[fmt], case.headers)
                if a[0] != b[0] or a[2] != b[2]:
                    raise BadAnswer(f"{case.name}: the bare app answers differently")
                if {k: v for k, v in a[1].items() if k != "date"} != {
                    k: v for k, v in b[1].items() if k != "date"
                }:
                    raise BadAnswer(f"{case.name}: other headers: {a[1]} vs {b[1]}")
            cases += fmt_cases
        bare_client.close()
        routed_before = client.json("GET", "/bench/stats")["routed"]

        # WARM: wrk, each case twice, app/bare alternated (app, bare, then bare, app).
        measure_warm(cases, app, bare, args, 14)
        client.close()  # uvicorn has closed it meanwhile (keep-alive timeout)
        client = Client(app.port)
        routed_warm = client.json("GET", "/bench/stats")["routed"] - routed_before
        client.close()
        return Result(
            kind=kind,
            seeded=seeded,
            body_bytes={fmt: len(warm[fmt]["identity"][2]) for fmt in FORMATS},
            gzip_bytes={fmt: len(warm[fmt]["gzip"][2]) for fmt in FORMATS},
            blocks=blocks,
            starts=starts,
            emptied=emptied,
            written=written,
            start_bodies={fmt: len(b) for fmt, b in first_bodies.items()},
            changed=changed,
            writes=args.writes,
            write_ms=write_ms,
            routing_note="; ".join(routing_notes),
            routed_warm=routed_warm,
            warm=cases,
        )
    finally:
        for server in reversed(servers):
            stop_server(server)


# --- report -----------------------------------------------------------------------------------


def problems(r: Result) -> list[str]:
    """What makes the run fail: a digest without its 200 blocks or unchanged after a write,
    a wrk answer in error."""
    found = []
    if r.blocks != EVENTS:
        found.append(f"{r.kind}: the digest holds {r.blocks} blocks, not {EVENTS}")
    for name, colds in (("first", r.starts), ("emptied", r.emptied), ("written", r.written)):
        for fmt, cold in colds.items():
            if any(n + m != EVENTS for n, m in zip(cold.rendered, cold.reused, strict=True)):
                found.append(f"{r.kind}: {name} {fmt} digests without {EVENTS} blocks")
    if r.changed < r.writes:
        found.append(
            f"{r.kind}: after {r.writes - r.changed} of {r.writes} writes a digest did not change"
            " or did not show the new title"
        )
    for case in r.warm:
        for run in (*case.app, *case.bare):
            if run.bad_status:
                found.append(f"{r.kind}: {case.name}: {run.bad_status} answers not 2xx or 3xx")
    return found


def _blocks(cold: Cold) -> str:
    """Blocks rendered / taken from the block cache per request, as ``new/cached``, or the
    range when they varied."""
    pairs = sorted(set(zip(cold.rendered, cold.reused, strict=True)))
    return ", ".join(f"{n}/{m}" for n, m in pairs)


def report(r: Result, args: argparse.Namespace) -> None:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[r.kind]
    s = r.seeded
    print()
    print(
        f"=== {label}: GET /newsletter/{FEED_SLUG}.{{html,txt}}?from={s.first}&to={s.last}"
        f"&lang={LANG}, {EVENTS} events ==="
    )
    print(
        f"store: {s.stored} events ({EVENTS} published in the {WINDOW_DAYS}-day window with"
        f" {s.occurrences} occurrences; {s.stored - EVENTS} before or after it, or drafts and"
        f" pending ones in it), seeded in {s.seconds:.1f} s"
    )
    print(
        "digest: "
        + ", ".join(
            f"{fmt} {r.body_bytes[fmt]:,} bytes ({r.gzip_bytes[fmt]:,} gzipped)" for fmt in FORMATS
        )
        + f"; {r.blocks} blocks"
    )
    print()
    head = (
        f"{'COLD (sequential, one connection)':<40} {'fmt':<4} {'n':>3} {'median':>9}"
        f" {'max':>9} {'server build':>13}   blocks new/cached"
    )
    print(head)
    print("-" * len(head))
    rows = (
        ("first request after a server start", r.starts),
        ("caches emptied (process warm)", r.emptied),
        ("after a write to one event", r.written),
    )
    for name, colds in rows:
        for i, fmt in enumerate(FORMATS):
            cold = colds[fmt]
            build = statistics.median(cold.builds_ms) if cold.builds_ms else float("nan")
            print(
                f"{name if i == 0 else '':<40} {fmt:<4} {len(cold.times):>3}"
                f" {median_ms(cold.times):7.1f}ms {max(cold.times) * 1000:7.1f}ms"
                f" {build:11.1f}ms   {_blocks(cold)}"
            )
    print(
        f"  writes: PATCH median {statistics.median(r.write_ms):.1f} ms; both digests changed"
        f" and showed the new title after {r.changed}/{r.writes} writes;"
        " first-request bodies identical across starts: "
        + (
            "yes"
            if set(r.start_bodies.values()) == {1}
            else "NO ("
            + ", ".join(f"{n} different {fmt} bodies" for fmt, n in r.start_bodies.items())
            + ")"
        )
    )
    if r.routing_note:
        print(f"  NOTE headers of the first (routed) answer vs a warm one: {r.routing_note}")
    print()
    print(
        f"WARM (wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency;"
        " run 1 = app then bare, run 2 = bare then app; bare = a Starlette app with one route"
        " returning the same bytes and headers; CPU = the server process's user+system time per"
        " request, and its share of the run's wall time; other = CPU used meanwhile by other"
        " user processes, in shares of one CPU)"
    )
    print_warm_table(r.warm, WARM_TARGET, 14)
    print(
        f"  requests that got past the pre-routing cache during the wrk runs: {r.routed_warm}"
        + (" (all warm answers came from the cache before routing)" if r.routed_warm == 0 else "")
    )
    print_warm_warnings(r.warm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite", help="sqlite and/or postgresql")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=20, help="wrk connections")
    parser.add_argument(
        "--cold-starts", type=int, default=5, help="server starts per format (cold, first request)"
    )
    parser.add_argument(
        "--emptied", type=int, default=10, help="requests per format after emptying the caches"
    )
    parser.add_argument("--writes", type=int, default=15, help="write + request cycles")
    parser.add_argument(
        "--quick", action="store_true", help="3 s wrk runs, 3 starts, 5 emptied, 5 writes"
    )
    parser.add_argument("--serve", nargs=2, metavar=("APP", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(*args.serve)
    if args.quick:
        args.duration, args.cold_starts, args.emptied, args.writes = 3, 3, 5, 5
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if not kinds or any(k not in ("sqlite", "postgresql") for k in kinds):
        parser.error("--databases takes sqlite and/or postgresql")
    if min(args.cold_starts, args.emptied, args.writes) < 1:
        parser.error("--cold-starts, --emptied and --writes take at least 1")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install -y wrk)")

    stop_on_sigterm()
    cleanup = Cleanup(Path(tempfile.mkdtemp(prefix="calendar-bench-newsletter-")))
    print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs", flush=True)
    failures: list[str] = []
    try:
        results = []
        for kind in kinds:
            result = run_database(kind, "newsletter", measure, args, cleanup)
            if result is not None:
                results.append(result)
        for result in results:
            report(result, args)
            failures += problems(result)
        if results:
            print()
            print(
                f"target: warm app/bare >= {WARM_TARGET:.2f} (mean of the two runs) for each case"
            )
    except BadAnswer as exc:
        failures.append(str(exc))
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        cleanup.everything()
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
