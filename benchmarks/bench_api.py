"""Listing benchmark: does a page of the JSON API cost the page, or the table?

Seeds a store with 1,000 events and another with 100,000 (same distribution, 100x denser), on
SQLite (a file in a temporary folder) and on PostgreSQL (a throwaway database), and times
``GET /api/events`` and ``GET /api/occurrences`` through the real ASGI app, in-process.
For each case it prints the median and p95 latency at each size, and the ratio between the
largest and the smallest store: the target is a ratio of at most 3.0.

    cd /work/main && .venv/bin/python benchmarks/bench_api.py            # full run
    .venv/bin/python benchmarks/bench_api.py --quick                     # smoke run
    .venv/bin/python benchmarks/bench_api.py --databases sqlite --explain

The exit code is always 0 (unless the arguments are wrong); read the verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx2 as httpx
import sqlalchemy as sa
from harness import Row, kind_of, per_size, print_plans, seed, short, stop_on_sigterm
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from throwaway import Cleanup

from calendar_service.app import create_app
from calendar_service.db.connection import Storage, migrate
from calendar_service.db.listings import encode_cursor
from calendar_service.db.tables import events as events_table
from calendar_service.models import EventIn
from calendar_service.normalise import parse_event
from calendar_service.schedule import schedule_for
from calendar_service.settings import Settings

TARGET_RATIO = 3.0
WARMUP = 30
SEED = 20_261_127

# Events are spread over ten years; a 90-day window in the middle holds a proportional share.
SPREAD_START = date(2020, 1, 1)
SPREAD_DAYS = (date(2030, 1, 1) - SPREAD_START).days
WINDOW_FROM, WINDOW_TO = "2025-03-01", "2025-05-30"  # 90 days

CATEGORIES = [
    "concert", "projection", "exposition", "spectacle", "mobilisation", "conference",
    "atelier", "permanence", "rencontre", "concours", "collecte", "autre",
]  # fmt: skip
TAGS = [
    "solidarite", "exil", "asile", "jeunesse", "femmes", "musique", "cinema", "theatre",
    "droits-humains", "justice", "democratie", "logement", "sante", "emploi", "education",
    "numerique", "francais", "langues", "famille", "enfance", "benevolat", "collecte",
    "alimentaire", "vetements", "accueil", "frontieres", "memoire", "histoire", "debat",
    "plaidoyer", "paris", "marseille", "lyon", "calais", "lille", "nantes", "gratuit",
    "inscription", "en-ligne", "accessible",
]  # fmt: skip
PLACES = [
    ("La Bellevilloise", "19-21 rue Boyer", "75020", "Paris", 48.8686, 2.3933),
    ("Maison des métallos", "94 rue Jean-Pierre Timbaud", "75011", "Paris", 48.8672, 2.3749),
    ("Friche la Belle de Mai", "41 rue Jobin", "13003", "Marseille", 43.3103, 5.3904),
    ("Le Channel", "173 boulevard Gambetta", "62100", "Calais", 50.9497, 1.8470),
    ("Couvent des Minimes", "24 rue Rabelais", "66000", "Perpignan", 42.7025, 2.8925),
    ("Maison des associations", "10 rue des Terres au Curé", "75013", "Paris", 48.8237, 2.3695),
    ("Les Subsistances", "8bis quai Saint-Vincent", "69001", "Lyon", 45.7700, 4.8170),
    ("Maison Folie Wazemmes", "70 rue des Sarrazins", "59000", "Lille", 50.6280, 3.0480),
    ("Le Lieu Unique", "2 rue de la Biscuiterie", "44000", "Nantes", 47.2150, -1.5450),
    ("Salle des fêtes", "1 place de la Mairie", "33000", "Bordeaux", 44.8378, -0.5792),
    ("Médiathèque centrale", "25 rue Sainte-Catherine", "31000", "Toulouse", 43.6045, 1.4440),
    ("Centre social", "3 rue de la Paix", "67000", "Strasbourg", 48.5734, 7.7521),
]  # fmt: skip
ORGANIZERS = [
    ("France terre d'asile", "https://www.france-terre-asile.org"),
    ("La Cimade", "https://www.lacimade.org"),
    ("Secours catholique", "https://www.secours-catholique.org"),
    ("Forum réfugiés", "https://www.forumrefugies.org"),
    ("Observatoire des inégalités", "https://www.inegalites.fr"),
    ("Collectif Cause Majeur !", "https://example.org/cause-majeur"),
    ("YoonRisen", "https://example.org/yoonrisen"),
    ("Médecins sans frontières", "https://www.msf.fr"),
]  # fmt: skip
SUBJECTS = [
    "pour l'accueil des personnes exilées", "sur les frontières", "autour de la mémoire",
    "pour l'égalité", "sur le droit d'asile", "pour la jeunesse", "contre la précarité",
    "sur l'accès aux droits", "autour du français langue étrangère", "pour le logement digne",
]  # fmt: skip
KINDS = {
    "concert": "Concert solidaire",
    "projection": "Projection-débat",
    "exposition": "Exposition",
    "spectacle": "Spectacle",
    "mobilisation": "Rassemblement",
    "conference": "Conférence",
    "atelier": "Atelier",
    "permanence": "Permanence",
    "rencontre": "Rencontre",
    "concours": "Remise des prix",
    "collecte": "Collecte",
    "autre": "Journée",
}


def bench_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, base_url="http://bench", environment="development")


# --- seeding ----------------------------------------------------------------------------------


def template_document(n: int, kind: str, rng: random.Random) -> dict[str, Any]:
    """A valid event document: ``kind`` single (2 h), recurring (weekly x8) or allday (3 days)."""
    category = CATEGORIES[n % len(CATEGORIES)]
    place = PLACES[n % len(PLACES)]
    organizer = ORGANIZERS[n % len(ORGANIZERS)]
    subject = SUBJECTS[(n // len(CATEGORIES)) % len(SUBJECTS)]
    title = f"{KINDS[category]} {subject} n°{n}"
    doc: dict[str, Any] = {
        "title": {"fr": title, "en": f"Event {n}: {category}"} if n % 3 == 0 else title,
        "summary": f"{title}, à {place[3]} : une rencontre ouverte à toutes et à tous.",
        "description": (
            f"**{organizer[0]}** vous donne rendez-vous à {place[0]} ({place[3]}).\n\n"
            + "Un temps d'échange, de témoignages et de convivialité. " * (1 + n % 4)
            + f"\n\n[En savoir plus]({organizer[1]}/evenements/{n})"
        ),
        "category": category,
        "tags": rng.sample(TAGS, 1 + n % 3),
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
        "url": f"{organizer[1]}/evenements/{n}",
        "price": ["Entrée libre", "Gratuit, sur inscription", "Participation libre"][n % 3],
        "state": "published",
    }
    if n % 4 == 0:
        doc["partners"] = [{"name": ORGANIZERS[(n + 1) % len(ORGANIZERS)][0], "role": "partner"}]
    if n % 5 == 0:
        doc["accessibility"] = {"features": ["wheelchair"]}
    if kind == "allday":
        doc.update(start="2025-01-06", end="2025-01-08", all_day=True)
    else:
        doc.update(start="2025-01-06T18:00:00", end="2025-01-06T20:00:00")
    if kind == "recurring":
        doc["recurrence"] = {"rrule": "FREQ=WEEKLY;COUNT=8"}
    return doc


def build_rows(count: int, settings: Settings) -> list[Row]:
    """``count`` events copied from a few hundred parsed templates, with varied start times."""
    rng = random.Random(SEED)
    pools: dict[str, list[EventIn]] = {}
    n = 0
    for kind, size in (("single", 270), ("recurring", 20), ("allday", 10)):
        pools[kind] = []
        for _ in range(size):
            pools[kind].append(parse_event(template_document(n, kind, rng), settings))
            n += 1
    rows = []
    for i in range(count):
        kind = kind_of(i)
        template = rng.choice(pools[kind])
        day = SPREAD_START + timedelta(days=rng.randrange(SPREAD_DAYS))
        if kind == "allday":
            update: dict[str, Any] = {"start": day, "end": day + timedelta(days=2)}
        else:
            start = datetime.combine(day, datetime.min.time()).replace(
                hour=rng.randrange(8, 21), minute=rng.choice((0, 15, 30, 45))
            )
            update = {"start": start, "end": start + timedelta(hours=2)}
        event = template.model_copy(update=update)
        slug = f"bench-{day.isoformat()}-{i}"
        rows.append((event, schedule_for(event, settings), f"bench-{i}@bench", slug))
    return rows


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    per_s: float
    items: int | None = None

    def cell(self) -> str:
        return f"{self.median_ms:7.2f} ({self.p95_ms:6.2f})"


async def time_requests(
    client: httpx.AsyncClient, url: str, requests: int, warmup: int = WARMUP
) -> tuple[Timing, httpx.Response]:
    """``requests`` sequential GETs of ``url`` after ``warmup`` untimed ones; the timing (with
    the items of a JSON page) and the first answer."""
    response = await client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} -> {response.status_code}: {response.text[:500]}")
    for _ in range(warmup):
        await client.get(url)
    gc.collect()
    samples = []
    began = time.perf_counter()
    for _ in range(requests):
        t0 = time.perf_counter()
        r = await client.get(url)
        samples.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.status_code
    total = time.perf_counter() - began
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
    timing = Timing(
        median_ms=statistics.median(samples) * 1000,
        p95_ms=p95 * 1000,
        per_s=requests / total,
    )
    if response.headers.get("content-type", "").startswith("application/json"):
        data = response.json()
        if isinstance(data, dict) and "items" in data:
            timing.items = len(data["items"])
    return timing, response


@asynccontextmanager
async def client_for(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        yield client


CASES = [
    ("events ?limit=50", "main"),
    ("events window 90d ?from&to&limit=50", "main"),
    ("events page 2 (next_cursor)", "main"),
    ("occurrences window 90d ?from&to&limit=50", "main"),
    ("events mid-table cursor (extra)", "extra"),
]


async def mid_cursor(storage: Storage, count: int) -> str:
    """The cursor a client holds after paging through half of the store."""
    row = await storage.fetch_one(
        sa.select(events_table.c.start_ts, events_table.c.id)
        .order_by(events_table.c.start_ts, events_table.c.id)
        .offset(count // 2)
        .limit(1)
    )
    assert row is not None
    return encode_cursor("s", row["start_ts"], row["id"])


def capture_queries(storage: Storage) -> list[Any]:
    """Record the statements the listing functions run (patches this instance only)."""
    seen: list[Any] = []
    for name in ("fetch_all", "fetch_one", "fetch_val"):
        original = getattr(storage, name)

        def wrapper(query: Any, _original: Callable[[Any], Awaitable[Any]] = original) -> Any:
            seen.append(query)
            return _original(query)

        setattr(storage, name, wrapper)
    return seen


def bound_sql(query: Any, kind: str) -> tuple[str, list[Any]]:
    """The statement with placeholders and its parameters, as the driver receives them."""
    dialect = sqlite_dialect.dialect() if kind == "sqlite" else asyncpg_dialect.dialect()
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), [compiled.params[name] for name in compiled.positiontup or []]


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


async def explain(url: str, kind: str, query: Any) -> tuple[str, list[str], float]:
    """The plan of ``query`` with bound parameters, and its median milliseconds run directly.

    Parameters stay parameters, as in the service: SQLite may plan a literal differently, and
    PostgreSQL switches a prepared statement to a generic plan after five executions (asyncpg
    keeps the service's statements prepared), so the statement is executed a few times first.
    """
    sql, params = bound_sql(query, kind)
    samples = []
    if kind == "sqlite":
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            plan = [f"{r[0]}<-{r[1]}: {r[3]}" for r in rows]
            for _ in range(15):
                t0 = time.perf_counter()
                connection.execute(sql, params).fetchall()
                samples.append(time.perf_counter() - t0)
        finally:
            connection.close()
    else:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(f"PREPARE bench_statement AS {sql}")
            execute = f"EXECUTE bench_statement({', '.join(_literal(p) for p in params)})"
            if not params:
                execute = "EXECUTE bench_statement"
            for _ in range(15):
                t0 = time.perf_counter()
                await connection.fetch(execute)
                samples.append(time.perf_counter() - t0)
            rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {execute}")
            plan = [r[0] for r in rows]
        finally:
            await connection.close()
    shown = f"{sql}  -- parameters {params}"
    return shown, plan, statistics.median(samples) * 1000


@dataclass
class SizeResult:
    size: int
    build_s: float
    seed_s: float
    timings: dict[str, Timing]
    page_body: bytes
    query_ms: dict[str, list[float]] = field(default_factory=dict)
    plans: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)


async def measure_size(url: str, kind: str, size: int, args: argparse.Namespace) -> SizeResult:
    migrate(url)
    t0 = time.perf_counter()
    rows = build_rows(size, bench_settings(url))
    build_s = time.perf_counter() - t0
    seed_s = await seed(url, rows, bench_settings(url))
    del rows  # the timed requests should not pay for a garbage collector walking 100k events
    gc.collect()
    print(
        f"  {kind} {size:>7,} events: built in {build_s:.1f} s, stored in {seed_s:.1f} s",
        flush=True,
    )
    app = create_app(bench_settings(url))
    storage: Storage = app.state.storage
    timings: dict[str, Timing] = {}
    query_ms: dict[str, list[float]] = {}
    plans: dict[str, list[tuple[str, list[str]]]] = {}
    page_body = b""
    async with app.router.lifespan_context(app), client_for(app) as client:
        window = f"from={WINDOW_FROM}&to={WINDOW_TO}&limit=50"
        first = (await client.get("/api/events?limit=50")).json()
        urls = {
            CASES[0][0]: "/api/events?limit=50",
            CASES[1][0]: f"/api/events?{window}",
            CASES[2][0]: f"/api/events?limit=50&cursor={first['next_cursor'] or ''}",
            CASES[3][0]: f"/api/occurrences?{window}",
            CASES[4][0]: f"/api/events?limit=50&cursor={await mid_cursor(storage, size)}",
        }
        for name, case_url in urls.items():
            timing, answer = await time_requests(client, case_url, args.requests)
            body = answer.content
            timings[name] = timing
            if name == CASES[0][0]:
                page_body = body
            if args.explain:
                seen = capture_queries(storage)
                await client.get(case_url)
                for attr in ("fetch_all", "fetch_one", "fetch_val"):
                    delattr(storage, attr)  # back to the class methods
                query_ms[name] = []
                plans[name] = []
                for query in seen:
                    sql, plan, ms = await explain(url, kind, query)
                    query_ms[name].append(ms)
                    plans[name].append((sql, plan))
            print(f"    {name:<45} {timing.median_ms:7.2f} ms median", flush=True)
    return SizeResult(size, build_s, seed_s, timings, page_body, query_ms, plans)


async def measure_baseline(body: bytes, requests: int) -> Timing:
    """A bare Starlette endpoint returning ``body`` from memory: the framework floor."""

    async def page(request: Request) -> Response:
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/api/events", page)])
    async with client_for(app) as client:
        timing, _ = await time_requests(client, "/api/events?limit=50", requests)
    return timing


# --- databases --------------------------------------------------------------------------------


def run_database(
    kind: str, sizes: list[int], args: argparse.Namespace, cleanup: Cleanup
) -> tuple[list[SizeResult], Timing] | None:
    results = per_size(
        kind,
        sizes,
        "bench",
        lambda url, size: asyncio.run(measure_size(url, kind, size, args)),
        cleanup,
    )
    if results is None:
        return None
    baseline = asyncio.run(measure_baseline(results[0].page_body, args.requests))
    return results, baseline


# --- report -----------------------------------------------------------------------------------


def report(
    kind: str, results: list[SizeResult], baseline: Timing, args: argparse.Namespace
) -> None:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    first, last = results[0], results[-1]
    print()
    print(f"=== {label} ===  ({args.requests} sequential requests per case, {WARMUP} warm-up)")
    for r in results:
        print(
            f"seeding {r.size:>7,} events: {r.build_s + r.seed_s:6.1f} s"
            f" = {r.build_s:5.1f} s parse_event/schedule_for + {r.seed_s:6.1f} s insert_many"
            f" ({r.size / r.seed_s:,.0f} events/s stored)"
        )
    print("times in ms: median (p95); items = items in the page")
    head = f"{'case':<45}"
    for r in results:
        head += f" | {short(r.size) + ' median (p95)':>17} {'req/s':>6} {'items':>5}"
    head += f" | {'ratio':>6} | verdict"
    print(head)
    print("-" * len(head))
    for name, _ in CASES:
        line = f"{name:<45}"
        for r in results:
            t = r.timings[name]
            items = "-" if t.items is None else str(t.items)
            line += f" | {t.cell():>17} {t.per_s:6.0f} {items:>5}"
        ratio = last.timings[name].median_ms / first.timings[name].median_ms
        verdict = "OK" if ratio <= TARGET_RATIO else f"OVER {TARGET_RATIO:g}x"
        line += f" | {ratio:6.2f} | {verdict}"
        print(line)
    print(
        f"{'baseline: bare Starlette, ' + short(first.size) + ' page bytes':<45}"
        f" | {baseline.cell():>17} {baseline.per_s:6.0f}"
        f"        (the {short(first.size)} ?limit=50 body, {len(first.page_body):,} bytes,"
        " served from memory through the same client)"
    )
    if args.explain:
        print_plans(label, [name for name, _ in CASES], results, last)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="store sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,10000 and 50 requests")
    parser.add_argument(
        "--explain", action="store_true", help="also print each statement's plan and direct time"
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.requests = "1000,10000", 50
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if not sizes or any(k not in ("sqlite", "postgresql") for k in kinds):
        parser.error("--databases takes sqlite and/or postgresql; --sizes at least one size")

    stop_on_sigterm()
    cleanup = Cleanup(Path(tempfile.mkdtemp(prefix="calendar-bench-")))
    try:
        outcomes = {}
        for kind in kinds:
            outcome = run_database(kind, sizes, args, cleanup)
            if outcome is not None:
                outcomes[kind] = outcome
                report(kind, *outcome, args)
        if outcomes:
            print()
            print(
                f"ratio = median at {short(sizes[-1])} / median at {short(sizes[0])};"
                f" target <= {TARGET_RATIO:g} (the cost follows the page, not the table)"
            )
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
    finally:
        cleanup.everything()
    return 0


if __name__ == "__main__":
    sys.exit(main())
