"""Agenda benchmark: do the public agenda's pages and the search cost the page, or the table?

Seeds a store with 1,000 events and another with 100,000 (``bench_editor.py``'s events: ten
years of events, 2% weekly series, 1% all-day, 2% drafts, 1% with the word "nocturne" in their
title), on SQLite (a file) and on PostgreSQL (a throwaway database). Then, through the real ASGI
app in-process, it times the agenda's first page, a search, this month's grid, the same search
in the editors' list and in the JSON API, and ``GET /api/events`` (first page) as the baseline
of the same run. The rendering cache is emptied before every timed request of a page: each
one is built, as the first visitor after a change meets it.

For each case it prints the median and p95 latency at each size and the ratio between the
largest and the smallest store (the target is at most 3.0: the cost follows the page).

    cd /work/main && .venv/bin/python benchmarks/bench_agenda.py         # full run
    .venv/bin/python benchmarks/bench_agenda.py --quick                  # smoke run
    .venv/bin/python benchmarks/bench_agenda.py --databases sqlite

The exit code is always 0 (unless the arguments are wrong); read the verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx2 as httpx
from bench_api import bench_settings, client_for
from bench_editor import CHEAP, EMAIL, PASSWORD, WORD, editor_rows, sign_in
from harness import per_size, seed, short, stop_on_sigterm
from throwaway import Cleanup

from calendar_service.app import create_app
from calendar_service.db import accounts
from calendar_service.db.connection import Storage, migrate

TARGET_RATIO = 3.0
MONTH = date.today().strftime("%Y/%m")
CASES = [
    ("agenda, first page", "/agenda"),
    (f"agenda search ?q={WORD} (1%)", f"/agenda?q={WORD}"),
    (f"agenda month {MONTH}", f"/agenda/{MONTH}"),
    (f"editor search ?q={WORD}", f"/editor/events?q={WORD}"),
    (f"api search ?q={WORD}", f"/api/events?q={WORD}&limit=50"),
    ("baseline: api events ?limit=50", "/api/events?limit=50"),
]
BASELINE = CASES[-1][0]


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    size_kb: float


@dataclass
class SizeResult:
    size: int
    seed_s: float
    timings: dict[str, Timing] = field(default_factory=dict)


async def time_requests(
    client: httpx.AsyncClient, app: object, url: str, requests: int, warmup: int
) -> Timing:
    """``requests`` sequential GETs of ``url``, each after emptying the rendering cache."""
    rendered = app.state.rendered  # type: ignore[attr-defined]
    first = await client.get(url)
    if first.status_code != 200:
        raise RuntimeError(f"GET {url} -> {first.status_code}: {first.text[:300]}")
    for _ in range(warmup):
        rendered.clear()
        await client.get(url)
    gc.collect()
    samples = []
    for _ in range(requests):
        rendered.clear()
        t0 = time.perf_counter()
        answer = await client.get(url)
        samples.append(time.perf_counter() - t0)
        assert answer.status_code == 200, answer.status_code
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
    return Timing(statistics.median(samples) * 1000, p95 * 1000, len(first.content) / 1000)


async def measure_size(url: str, kind: str, size: int, args: argparse.Namespace) -> SizeResult:
    migrate(url)
    t0 = time.perf_counter()
    rows = editor_rows(size, url)
    await seed(url, rows, bench_settings(url))
    result = SizeResult(size, time.perf_counter() - t0)
    del rows
    gc.collect()
    print(f"  {kind} {size:>7,} events: built and stored in {result.seed_s:.1f} s", flush=True)
    accounts.hasher = CHEAP
    app = create_app(bench_settings(url))
    storage: Storage = app.state.storage
    async with app.router.lifespan_context(app), client_for(app) as client:
        await accounts.create_user(storage, email=EMAIL, password=PASSWORD, role="editor")
        await sign_in(client)
        for name, path in CASES:
            timing = await time_requests(client, app, path, args.requests, args.warmup)
            result.timings[name] = timing
            print(f"    {name:<40} {timing.median_ms:8.2f} ms median", flush=True)
    return result


def report(kind: str, results: list[SizeResult], args: argparse.Namespace) -> None:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    first, last = results[0], results[-1]
    print()
    print(f"=== {label} ===  ({args.requests} requests per case, the cache emptied before each)")
    head = f"{'case':<40}"
    for r in results:
        head += f" | {short(r.size) + ' median (p95)':>19} {'kB':>6} {'x api':>6}"
    head += f" | {'ratio':>6} | verdict (<= {TARGET_RATIO:g})"
    print(head)
    print("-" * len(head))
    for name, _ in CASES:
        line = f"{name:<40}"
        for r in results:
            t = r.timings[name]
            against = t.median_ms / r.timings[BASELINE].median_ms
            cell = f"{t.median_ms:8.2f} ({t.p95_ms:8.2f})"
            line += f" | {cell:>19} {t.size_kb:6.1f} {against:6.2f}"
        ratio = last.timings[name].median_ms / first.timings[name].median_ms
        verdict = "OK" if ratio <= TARGET_RATIO else f"OVER {TARGET_RATIO:g}x"
        print(line + f" | {ratio:6.2f} | {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="store sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per case first")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,10000, 10 requests")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.requests, args.warmup = "1000,10000", 10, 2
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if not sizes or args.requests < 1 or any(k not in ("sqlite", "postgresql") for k in kinds):
        parser.error("--databases takes sqlite and/or postgresql; --sizes at least one size")
    stop_on_sigterm()
    began = time.perf_counter()
    cleanup = Cleanup(Path(tempfile.mkdtemp(prefix="calendar-bench-agenda-")))
    try:
        for kind in kinds:
            try:
                results = per_size(
                    kind,
                    sizes,
                    "bench-agenda",
                    lambda url, size, kind=kind: asyncio.run(measure_size(url, kind, size, args)),
                    cleanup,
                )
            except Exception as exc:  # the run goes on with the other database, and exits 0
                print(f"  {kind}: the run failed: {exc!r}", file=sys.stderr)
                continue
            if results is not None:
                report(kind, results, args)
        print()
        print(
            f"ratio = median at {short(sizes[-1])} / median at {short(sizes[0])};"
            f" target <= {TARGET_RATIO:g}. Whole run: {time.perf_counter() - began:.0f} s"
        )
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
    finally:
        cleanup.everything()
    return 0


if __name__ == "__main__":
    sys.exit(main())
