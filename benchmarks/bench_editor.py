"""Editor list benchmark: does a page of the editors' event list cost the page, or the table?

Seeds a store with 1,000 events and another with 100,000 (the distribution of
``bench_api.py``: ten years of events, 2% weekly series, 1% all-day; here 2% of them are
drafts and 1% carry the word "nocturne" in their title, so that the state filter and the search
find something), on SQLite (a file in a temporary folder) and on PostgreSQL (a throwaway
database). Then it signs in through the app (the sign-in page's token and cookie, then its
form) and times, through the real ASGI app in-process, ``GET /editor/events`` (first page, a
search, the drafts, page 3) and, as the baseline of the same run, ``GET /api/events`` (first
page).

For each case it prints the median and p95 latency at each size, the ratio between the
largest and the smallest store (the target is at most 3.0: the cost follows the page, not the
table) and the ratio to the baseline at the same size.

    cd /work/main && .venv/bin/python benchmarks/bench_editor.py         # full run
    .venv/bin/python benchmarks/bench_editor.py --quick                  # smoke run
    .venv/bin/python benchmarks/bench_editor.py --databases sqlite --explain

The exit code is always 0 (unless the arguments are wrong); read the verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import sqlalchemy as sa
from argon2 import PasswordHasher
from bench_api import Timing, bench_settings, build_rows, capture_queries, client_for, explain
from bench_api import time_requests as api_time_requests
from harness import Row, kind_of, per_size, print_plans, seed, short, stop_on_sigterm
from throwaway import Cleanup

from calendar_service.app import create_app
from calendar_service.db import accounts
from calendar_service.db.connection import Storage, migrate

TARGET_RATIO = 3.0
WORD = "nocturne"  # in the title of 1% of the events
EMAIL, PASSWORD = "bench@example.org", "une phrase assez longue pour le banc"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # as tests/accounts.py
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
ROW = re.compile(r'<th scope="row"><a href="/editor/events/\d+')

CASES = [
    ("editor list, first page", "/editor/events"),
    (f"editor search ?q={WORD} (1%)", f"/editor/events?q={WORD}"),
    ("editor drafts ?state=draft (2%)", "/editor/events?state=draft"),
    ("editor page 3 ?page=3", "/editor/events?page=3"),
    ("baseline: api events ?limit=50", "/api/events?limit=50"),
]
BASELINE = CASES[-1][0]


# --- seeding ----------------------------------------------------------------------------------


def editor_rows(count: int, url: str) -> list[Row]:
    """``bench_api``'s events, with a few drafts and a few titles holding ``WORD``."""
    rows = build_rows(count, bench_settings(url))
    for i, (event, schedule, uid, slug) in enumerate(rows):
        update: dict[str, Any] = {}
        if i % 50 == 13:
            update["state"] = "draft"
        if i % 100 == 37 and kind_of(i) == "single":
            update["title"] = {lang: f"{text} ({WORD})" for lang, text in event.title.items()}
        if update:
            rows[i] = (event.model_copy(update=update), schedule, uid, slug)
    return rows


# --- measuring --------------------------------------------------------------------------------


async def sign_in(client: httpx.AsyncClient) -> None:
    """The sign-in page (its token and cookie), then its form: the client keeps the session."""
    page = await client.get("/editor/login")
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"no csrf token on /editor/login: {page.status_code}")
    answer = await client.post(
        "/editor/login",
        data={"csrf_token": found.group(1), "email": EMAIL, "password": PASSWORD},
        follow_redirects=False,
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in refused: {answer.status_code} {answer.text[:300]}")


async def time_requests(client: httpx.AsyncClient, url: str, requests: int, warmup: int) -> Timing:
    """``bench_api.time_requests``, its items also counted in the editor's table rows."""
    timing, response = await api_time_requests(client, url, requests, warmup)
    if timing.items is None:
        timing.items = len(ROW.findall(response.text))
    return timing


@dataclass
class SizeResult:
    size: int
    seed_s: float
    timings: dict[str, Timing]
    totals: dict[str, str] = field(default_factory=dict)  # the count the page shows
    query_ms: dict[str, list[float]] = field(default_factory=dict)
    plans: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)


TOTAL = re.compile(r'<p role="status">([^<]*)</p>')


async def measure_size(url: str, kind: str, size: int, args: argparse.Namespace) -> SizeResult:
    migrate(url)
    t0 = time.perf_counter()
    rows = editor_rows(size, url)
    await seed(url, rows, bench_settings(url))
    seed_s = time.perf_counter() - t0
    del rows
    gc.collect()
    print(f"  {kind} {size:>7,} events: built and stored in {seed_s:.1f} s", flush=True)
    accounts.hasher = CHEAP
    app = create_app(bench_settings(url))
    storage: Storage = app.state.storage
    result = SizeResult(size, seed_s, {})
    async with app.router.lifespan_context(app), client_for(app) as client:
        await accounts.create_user(storage, email=EMAIL, password=PASSWORD, role="editor")
        await sign_in(client)
        for name, path in CASES:
            timing = await time_requests(client, path, args.requests, args.warmup)
            result.timings[name] = timing
            shown = TOTAL.search((await client.get(path)).text)
            result.totals[name] = shown.group(1) if shown else "-"
            if args.explain:
                seen = capture_queries(storage)
                await client.get(path)
                for attr in ("fetch_all", "fetch_one", "fetch_val"):
                    delattr(storage, attr)  # back to the class methods
                result.query_ms[name], result.plans[name] = [], []
                for query in seen:
                    if not isinstance(query, sa.Select):
                        continue  # the session's bookkeeping writes: not run again here
                    sql, plan, ms = await explain(url, kind, query)
                    result.query_ms[name].append(ms)
                    result.plans[name].append((sql, plan))
            print(f"    {name:<40} {timing.median_ms:8.2f} ms median", flush=True)
    return result


# --- databases --------------------------------------------------------------------------------


def run_database(
    kind: str, sizes: list[int], args: argparse.Namespace, cleanup: Cleanup
) -> list[SizeResult] | None:
    return per_size(
        kind,
        sizes,
        "bench-editor",
        lambda url, size: asyncio.run(measure_size(url, kind, size, args)),
        cleanup,
    )


# --- report -----------------------------------------------------------------------------------


def report(kind: str, results: list[SizeResult], args: argparse.Namespace) -> None:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    first, last = results[0], results[-1]
    print()
    print(f"=== {label} ===  ({args.requests} sequential requests per case, {args.warmup} warm-up)")
    print(
        "times in ms: median (p95); items = rows in the page; x api = median / the api"
        " baseline's median at the same size"
    )
    head = f"{'case':<40}"
    for r in results:
        head += f" | {short(r.size) + ' median (p95)':>19} {'items':>5} {'x api':>6}"
    head += f" | {'ratio':>6} | verdict (<= {TARGET_RATIO:g})"
    print(head)
    print("-" * len(head))
    for name, _ in CASES:
        line = f"{name:<40}"
        for r in results:
            t = r.timings[name]
            against = t.median_ms / r.timings[BASELINE].median_ms
            cell = f"{t.median_ms:8.2f} ({t.p95_ms:8.2f})"
            line += f" | {cell:>19} {t.items if t.items is not None else '-':>5} {against:6.2f}"
        ratio = last.timings[name].median_ms / first.timings[name].median_ms
        verdict = "OK" if ratio <= TARGET_RATIO else f"OVER {TARGET_RATIO:g}x"
        print(line + f" | {ratio:6.2f} | {verdict}")
    for r in results:
        shown = "; ".join(f"{n.split(' ?')[0]}: {t}" for n, t in r.totals.items() if t != "-")
        print(f"count shown at {short(r.size)}: {shown}")
    if args.explain:
        print_plans(label, [name for name, _ in CASES], results, last)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="store sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per case first")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--quick", action="store_true", help="sizes 1000,10000, 15 requests, 3 warm-up"
    )
    parser.add_argument(
        "--explain", action="store_true", help="also print each statement's plan and direct time"
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.requests, args.warmup = "1000,10000", 15, 3
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if not sizes or args.requests < 1 or any(k not in ("sqlite", "postgresql") for k in kinds):
        parser.error("--databases takes sqlite and/or postgresql; --sizes at least one size")

    stop_on_sigterm()
    began = time.perf_counter()
    cleanup = Cleanup(Path(tempfile.mkdtemp(prefix="calendar-bench-editor-")))
    try:
        measured = False
        for kind in kinds:
            try:
                results = run_database(kind, sizes, args, cleanup)
            except Exception as exc:  # the run goes on with the other database, and exits 0
                print(f"  {kind}: the run failed: {exc!r}", file=sys.stderr)
                continue
            if results is not None:
                measured = True
                report(kind, results, args)
        if measured:
            print()
            print(
                f"ratio = median at {short(sizes[-1])} / median at {short(sizes[0])};"
                f" target <= {TARGET_RATIO:g} (the cost follows the page, not the table)."
                f" Whole run: {time.perf_counter() - began:.0f} s"
            )
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
    finally:
        cleanup.everything()
    return 0


if __name__ == "__main__":
    sys.exit(main())
