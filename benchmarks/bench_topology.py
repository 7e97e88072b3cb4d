"""Topology benchmark: what several processes, and nginx's cache in front of them, change.

One throwaway PostgreSQL database holds 10,000 events (``bench_feeds.build_rows``, stored with
``harness.seed``). ``calendar-service serve`` runs as the test suite runs it (tests/servers.py)
and nginx from deploy/nginx/calendar.conf.template (tests/proxy.py), one configuration at a
time, and ``wrk`` measures each URL against:

- 1 process (the baseline of every ratio),
- 2 processes behind nginx with its cache off,
- 1 port with ``--workers 2``,
- 2 processes behind nginx with its cache on (the production topology),

for the feed (``/feeds/agenda.ics``, gzip as calendar clients ask, and its 304), the JSON API
(``/api/events?limit=50``, ``/api/occurrences``) and the home page ``/``.

    cd /work/main && .venv/bin/python benchmarks/bench_topology.py --quick  # 2,000 events, 3 s
    .venv/bin/python benchmarks/bench_topology.py                           # 10,000, 10 s runs

The exit code is 0 whatever the figures (non-zero only for wrong arguments or a crash).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench_feeds import build_rows
from harness import (
    CLOCK_TICKS,
    FEEDS_DIR,
    OTHER_LOAD_WARNING,
    ROOT,
    latency_ms,
    seed,
    stop_on_sigterm,
)
from throwaway import Cleanup

from calendar_service.db.connection import migrate
from calendar_service.settings import Settings

sys.path.insert(0, str(ROOT))  # the test suite's helpers: the same processes and nginx
from tests.proxy import Proxy, fetch, nginx_binary
from tests.servers import SHUTDOWN_SECONDS, Server, free_port

# Every process writes the same links (left unset, each would follow its own port).
SAME_LINKS = {"CALENDAR_BASE_URL": "http://agenda.bench.example"}
FEED = "/feeds/agenda.ics"
GZIP = {"Accept-Encoding": "gzip"}
BASELINE = "1 process"
CONFIGURATIONS = (
    BASELINE,
    "2 processes + nginx, no cache",
    "--workers 2",
    "2 processes + nginx cache",
)


@dataclass
class Case:
    """One URL with its headers, and its wrk run in each configuration."""

    name: str
    path: str
    headers: dict[str, str]
    runs: dict[str, Run] = field(default_factory=dict)


@dataclass
class Run:
    requests_s: float
    p50: str
    p99: str
    errors: str
    other: float  # CPU used meanwhile by processes not of this run, in shares of one CPU
    cache: str = ""  # X-Cache-Status of an answer after the run (the proxy's cache only)


def others_cpu_s() -> dict[int, float]:
    """CPU seconds so far of the user processes that are not this script's or its children's
    (servers, nginx, wrk), nor PostgreSQL's (its backends serve this run's queries too)."""
    me = os.getpid()
    seen: dict[int, tuple[int, str, float]] = {}  # pid: parent, name, CPU seconds
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        parent = int(fields[1])
        seen[int(entry.name)] = (parent, name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)

    def ours(pid: int) -> bool:
        for _ in range(64):  # up the parents
            if pid == me:
                return True
            if pid not in seen or pid <= 2:
                return False
            pid = seen[pid][0]
        return False

    return {
        pid: cpu
        for pid, (parent, name, cpu) in seen.items()
        if parent != 2 and pid != 2 and name not in ("postgres", "postmaster") and not ours(pid)
    }


def run_wrk(url: str, headers: dict[str, str], args: argparse.Namespace, seconds: float) -> Run:
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--timeout", "30s",
        "--latency",
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    before, began = others_cpu_s(), time.perf_counter()
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - began
    other = sum(cpu - before.get(pid, 0.0) for pid, cpu in others_cpu_s().items()) / wall
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    problems = [
        line.strip() for line in out.splitlines() if "Socket errors" in line or "Non-2xx" in line
    ]
    return Run(
        requests_s=float(rate.group(1)),
        p50=p50.group(1) if p50 else "?",
        p99=p99.group(1) if p99 else "?",
        errors="; ".join(problems),
        other=max(0.0, other),
    )


def measure(configuration: str, base: str, cases: list[Case], args: argparse.Namespace) -> None:
    """Each case against ``base``: a warm-up (it fills the caches, and the processes' pools
    open their PostgreSQL connections), then the run."""
    for case in cases:
        url = base + case.path
        status = fetch(url, case.headers)[0]
        if status not in (200, 304):
            raise RuntimeError(f"{configuration}: {case.path} answered {status}")
        run_wrk(url, case.headers, args, min(2, args.duration))
        run = run_wrk(url, case.headers, args, args.duration)
        run.cache = fetch(url, case.headers)[1].get("x-cache-status", "")
        case.runs[configuration] = run
        print(
            f"    {configuration:<30} {case.name:<26} {run.requests_s:9,.0f} req/s"
            f"  p50 {latency_ms(run.p50):>7} ms  p99 {latency_ms(run.p99):>7} ms"
            f"  other {run.other:4.0%}",
            flush=True,
        )
        if run.errors:
            print(f"    WARNING {configuration} {case.name}: {run.errors}")


def ready(*servers: Server) -> None:
    for server in servers:
        server.wait_ready()


def stop(running: Server | Proxy) -> None:
    """SIGTERM, as an operator stops the service: ``serve --workers 2`` then stops its workers
    (``Server.stop``'s SIGKILL would leave them running, orphaned)."""
    if isinstance(running, Server) and running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            running.process.wait(SHUTDOWN_SECONDS + 5)
    running.stop()


def run_all(url: str, folder: Path, args: argparse.Namespace) -> list[Case]:
    """The four configurations, one after the other, on the seeded database at ``url``."""
    running: list[Server | Proxy] = []

    def stop_all() -> None:
        while running:
            stop(running.pop())

    try:
        one = Server(folder, url, 1, name="one", environment=SAME_LINKS)
        running.append(one)
        ready(one)
        status, headers, _ = fetch(one.url + FEED, GZIP)
        assert status == 200, status
        cases = [
            Case("feed, gzip (warm)", FEED, GZIP),
            Case("feed, 304 If-None-Match", FEED, {**GZIP, "If-None-Match": headers["etag"]}),
            Case("/api/events?limit=50", "/api/events?limit=50", {}),
            Case("/api/occurrences", "/api/occurrences", {}),
            Case("home page /", "/", {}),
        ]
        print(f"  {BASELINE}", flush=True)
        measure(BASELINE, one.url, cases, args)
        stop_all()

        workers = Server(folder, url, 2, name="workers", environment=SAME_LINKS)
        running.append(workers)
        ready(workers)
        print("  --workers 2", flush=True)
        measure("--workers 2", workers.url, cases, args)
        stop_all()

        a = Server(folder, url, 1, name="a", environment=SAME_LINKS)
        b = Server(folder, url, 1, name="b", environment=SAME_LINKS)
        running += [a, b]
        ready(a, b)
        upstreams = (f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}")
        for cache, configuration in ((False, CONFIGURATIONS[1]), (True, CONFIGURATIONS[3])):
            proxy = Proxy(folder / f"nginx-{cache}", upstreams, free_port(), cache=cache)
            proxy.check()
            proxy.start()
            running.append(proxy)
            print(f"  {configuration}", flush=True)
            measure(configuration, proxy.url, cases, args)
            running.remove(proxy)
            proxy.stop()
        return cases
    finally:
        stop_all()


def report(cases: list[Case], args: argparse.Namespace, events: int) -> None:
    print()
    print(
        f"=== {events:,} events on PostgreSQL; wrk -t{args.threads} -c{args.connections}"
        f" -d{args.duration:g}s --latency, one configuration at a time ==="
    )
    head = (
        f"{'URL':<26} {'configuration':<30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'x 1 process':>11} {'other':>6}  cache"
    )
    print(head)
    print("-" * len(head))
    for case in cases:
        baseline = case.runs[BASELINE].requests_s
        for i, configuration in enumerate(CONFIGURATIONS):
            run = case.runs[configuration]
            print(
                f"{case.name if i == 0 else '':<26} {configuration:<30} {run.requests_s:9,.0f}"
                f" {latency_ms(run.p50):>8} {latency_ms(run.p99):>8}"
                f" {run.requests_s / baseline:10.2f}x {run.other:6.0%}  {run.cache}"
            )
    cores = os.cpu_count()
    print()
    print(
        f"This machine has {cores} CPUs. wrk ({args.threads} threads), nginx and the service's"
        " processes (and PostgreSQL for the API and the home page) share them, so a second"
        " process can only take CPU that wrk and the others leave: the ratios say what a second"
        " process or the cache gains here, not on a host with a core per process. The cache's"
        " figures are nginx's own (the service is not asked while a copy is fresh)."
    )
    busiest = max(r.other for c in cases for r in c.runs.values())
    if busiest > OTHER_LOAD_WARNING:
        print(
            f"WARNING: other processes used up to {busiest:.0%} of a CPU during the wrk runs"
            " ('other' column): these figures are disturbed; run again on a quiet machine"
        )
    errors = [
        f"{c.name} / {name}: {r.errors}" for c in cases for name, r in c.runs.items() if r.errors
    ]
    if errors:
        print("wrk reported: " + "; ".join(errors))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="events in the feed")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--quick", action="store_true", help="2,000 events, 3 s wrk runs")
    args = parser.parse_args()
    if args.quick:
        args.events, args.duration = 2_000, 3
    if args.events < 1:
        parser.error("--events at least 1")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install -y wrk)")
    if nginx_binary() is None:
        parser.error("nginx is not installed (apt-get install --no-install-recommends nginx-light)")

    stop_on_sigterm()
    cleanup = Cleanup(Path(tempfile.mkdtemp(prefix="calendar-bench-topology-")))
    print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs", flush=True)
    try:
        url = cleanup.create(f"calendar_bench_topology_{uuid.uuid4().hex[:10]}")
        if url is None:
            return 0
        migrate(url)
        # The processes' own settings (their VEVENTs need no rendering again when they start).
        settings = Settings(database_url=url, feeds_dir=FEEDS_DIR)
        began = time.perf_counter()
        rows, past = build_rows(args.events, settings)
        seeded = asyncio.run(seed(url, rows, settings))
        del rows
        print(
            f"  {args.events + past:,} events ({args.events:,} in the feed) built and stored in"
            f" {time.perf_counter() - began:.1f} s ({seeded:.1f} s storing)",
            flush=True,
        )
        cases = run_all(url, cleanup.temp_dir, args)
        report(cases, args, args.events)
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
    finally:
        cleanup.everything()
    return 0


if __name__ == "__main__":
    sys.exit(main())
