"""What the benchmarks share, so that they measure and report in the same way.

``bench_feeds.py`` and ``bench_newsletter.py`` run the real app and a bare Starlette app in
uvicorn subprocesses, drive them with ``wrk`` and print the same warm table; this module holds
those servers, the HTTP client, the wrk runs (with the CPU accounting that tells whether other
processes disturbed them) and the table. ``bench_feeds.py`` and ``bench_api.py`` also store
their events the same way (``seed``). A change here changes every benchmark that uses it, which
is the point: their figures stay comparable.

The scripts run as ``python benchmarks/bench_X.py``, so this folder is on ``sys.path`` and they
import this module as ``harness``, as they import ``throwaway``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import http.client
import json
import logging
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from starlette.applications import Starlette
from throwaway import Cleanup

from calendar_service.db.connection import Storage
from calendar_service.db.events import insert_many
from calendar_service.models import EventIn
from calendar_service.render.ical import RenderContext, renderer
from calendar_service.schedule import Schedule
from calendar_service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FEEDS_DIR = ROOT / "feeds"  # the repository's feed definitions, which the benchmarks serve
SERVER_START_TIMEOUT_S = 60.0
OTHER_LOAD_WARNING = 0.15  # share of a CPU used by other processes during a wrk run
BATCH = 2_000  # events per ``insert_many`` call when seeding
PG_CONCURRENCY = 4  # PostgreSQL batches stored at once, each on its own pooled connection

Measured = TypeVar("Measured")


# --- runs -------------------------------------------------------------------------------------


def stop_on_sigterm() -> None:
    """Turn SIGTERM into ``KeyboardInterrupt``, so that a killed run still goes through its
    ``finally`` blocks: the servers stopped, the folder removed, the databases dropped."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # no "exception never retrieved"
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)


def run_database(
    kind: str,
    name: str,
    measure: Callable[[str, str, argparse.Namespace, Path], Measured],
    args: argparse.Namespace,
    cleanup: Cleanup,
) -> Measured | None:
    """``measure(kind, url, args, workdir)`` on a fresh store of ``kind``; None when PostgreSQL
    can't be reached (the run goes on with the other database).

    The store is ``{name}.db`` in a folder of its own (``workdir``, for the benchmark's files
    too) or a throwaway PostgreSQL database, dropped as soon as it has been measured.
    """
    workdir = cleanup.temp_dir / kind
    workdir.mkdir()
    if kind == "sqlite":
        return measure(kind, f"sqlite:///{workdir / f'{name}.db'}", args, workdir)
    database = f"calendar_bench_{name}_{uuid.uuid4().hex[:10]}"
    url = cleanup.create(database)
    if url is None:
        return None
    try:
        return measure(kind, url, args, workdir)
    finally:
        cleanup.drop(database)


def per_size(
    kind: str,
    sizes: list[int],
    prefix: str,
    measure: Callable[[str, int], Measured],
    cleanup: Cleanup,
) -> list[Measured] | None:
    """``measure(url, size)`` on a fresh store of ``kind`` for each size, each removed once
    measured; None when PostgreSQL can't be reached (the run goes on with the other one)."""
    results = []
    for size in sizes:
        if kind == "sqlite":
            path = cleanup.temp_dir / f"{prefix}-{size}.db"
            url = f"sqlite:///{path}"
        else:
            name = f"calendar_{prefix.replace('-', '_')}_{uuid.uuid4().hex[:10]}_{size}"
            created = cleanup.create(name)
            if created is None:
                return None
            url = created
        try:
            results.append(measure(url, size))
        finally:
            if kind == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            else:
                cleanup.drop(name)
    return results


def short(size: int) -> str:
    """1000 → "1k"."""
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def print_plans(label: str, names: list[str], results: list[Any], last: Any) -> None:
    """Each case's SQL statements, their plans and their direct times at each size (the
    results carry ``size`` and ``query_ms``; ``last`` carries ``plans``)."""
    print()
    print(f"--- {label}: statements per request, direct execution ms at each size ---")
    for name in names:
        per_size = [r.query_ms.get(name, []) for r in results]
        for i, (sql, plan) in enumerate(last.plans.get(name, [])):
            times = " / ".join(
                f"{short(r.size)} {ms[i]:.2f}"
                for r, ms in zip(results, per_size, strict=True)
                if i < len(ms)
            )
            print(f"[{name}] statement {i + 1}: {times} ms")
            print("  " + " ".join(sql.split()))
            for line in plan:
                print("    " + line)


# --- seeding ----------------------------------------------------------------------------------

Row = tuple[EventIn, Schedule, str, str]  # what ``insert_many`` stores: event, schedule, uid, slug


def kind_of(i: int) -> str:
    """The kind of the ``i``-th copied event, for a mix like a real agenda's: 2% weekly
    recurring (COUNT=8), 1% all-day, the rest single timed events (durations are the
    benchmark's)."""
    if i % 100 in (0, 50):
        return "recurring"
    if i % 100 == 25:
        return "allday"
    return "single"


async def seed(url: str, rows: list[Row], settings: Settings) -> float:
    """Store ``rows`` with ``insert_many`` in batches (VEVENTs rendered as on every write);
    seconds taken.

    SQLite has one writer, so batches go one after the other; PostgreSQL takes a few at once.
    PostgreSQL is then ANALYZEd, as autovacuum would soon do; SQLite is left as the service
    leaves it (the service never runs ANALYZE, so the SQLite planner has no statistics).
    """
    storage = Storage(url)
    await storage.connect()
    render = renderer(RenderContext.from_settings(settings))
    try:
        began = time.perf_counter()
        batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
        if storage.kind == "sqlite":
            for batch in batches:
                await insert_many(storage, rows=batch, render=render)
        else:
            gate = asyncio.Semaphore(PG_CONCURRENCY)

            async def store(batch: list[Row]) -> None:
                async with gate:
                    await insert_many(storage, rows=batch, render=render)

            await asyncio.gather(*(store(batch) for batch in batches))
            await storage.execute("ANALYZE")
        return time.perf_counter() - began
    finally:
        await storage.disconnect()


# --- servers (the benchmark script run again with --serve app|bare, in a subprocess) ----------


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve_app(app: Starlette) -> int:
    """Subprocess entry: print the port on stdout, then serve ``app`` until SIGTERM.

    One uvicorn worker on 127.0.0.1 and a free port, bound here so that the parent learns it
    from the first line of output.
    """
    import uvicorn

    sock = _bound_socket()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing more for the parent's pipe
    config = uvicorn.Config(
        app, log_level="warning", workers=1, lifespan="on", timeout_graceful_shutdown=5
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """No server left behind when the benchmark dies without cleaning up (SIGKILL)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Server:
    """A server subprocess: ``app`` (the real one) or ``bare`` (the same bytes from memory)."""

    name: str
    process: subprocess.Popen[bytes]
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def start_server(script: Path, which: str, target: str) -> Server:
    """``script --serve which target`` in a subprocess, once it answers ``GET /bench/ready``.

    The benchmark script is its own server, so that the app it serves is built by the same code
    (its extra routes) as the one it measures.
    """
    process = subprocess.Popen(
        [sys.executable, str(script.resolve()), "--serve", which, target],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        preexec_fn=_die_with_parent,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("PORT "):
        process.kill()
        process.wait()
        raise RuntimeError(f"the {which} server did not start (exit code {process.returncode})")
    server = Server(which, process, int(line.split()[1]))
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        try:
            client = Client(server.port)
            status, _, _ = client.get("/bench/ready")
            client.close()
            if status == 200:
                return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"the {which} server did not answer (exit code {process.poll()})")
        time.sleep(0.05)


def stop_server(server: Server) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within 15 s."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    if server.process.stdout is not None:
        server.process.stdout.close()


# --- client -----------------------------------------------------------------------------------

Answer = tuple[int, dict[str, str], bytes]  # status, headers (lower-case names), body


class BadAnswer(Exception):
    """An answer that is not the expected status, or empty."""


class Client:
    """One keep-alive HTTP/1.1 connection (the standard library: little client overhead)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        content = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers)

    def json(self, method: str, path: str) -> dict[str, Any]:
        """The JSON object a benchmark route answers; ``BadAnswer`` unless it is a 200."""
        status, _, body = self.request(method, path)
        if status != 200:
            raise BadAnswer(f"{method} {path}: {status} {body[:300]!r}")
        result: dict[str, Any] = json.loads(body)
        return result

    def close(self) -> None:
        self.connection.close()


def header_differences(
    routed: dict[str, str], warm: dict[str, str], ignored: frozenset[str] = frozenset({"date"})
) -> str:
    """How the headers of a built (routed) answer and of a warm (cached) answer differ, less
    ``ignored`` (headers expected to differ, such as ``date``)."""
    names = sorted((set(routed) | set(warm)) - ignored)
    differing = [
        f"{n}: {routed.get(n)!r} vs {warm.get(n)!r}" for n in names if routed.get(n) != warm.get(n)
    ]
    return "; ".join(differing)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class WrkRun:
    """One wrk run, and what the server and the other processes spent meanwhile."""

    requests_s: float
    requests: int
    latency_p99: str
    cpu_us: float  # server process CPU (user + system, all threads) per request
    cpu_share: float  # server process CPU / wall time of the run
    other_share: float  # CPU of other user processes (not ours, not wrk) / wall time
    errors: str
    bad_status: int  # answers wrk counted as neither 2xx nor 3xx


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def user_processes_cpu_s() -> dict[int, float]:
    """CPU seconds so far of every user-space process (kernel threads left out), by pid."""
    seen = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if fields[1] == "2" or entry.name == "2":  # kthreadd and its children
            continue
        seen[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seen


def run_wrk(
    server: Server,
    path: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    seconds: float,
    exclude: tuple[int, ...] = (),
) -> WrkRun:
    """One wrk run against ``server``; ``exclude``: pids left out of the "other" CPU.

    ``args`` gives wrk's ``threads`` and ``connections``.
    """
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--timeout", "30s",
        "--latency",
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(server.url(path))
    others_before = user_processes_cpu_s()
    cpu_before, began = process_cpu_s(server.process.pid), time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - began
    cpu = process_cpu_s(server.process.pid) - cpu_before
    mine = {os.getpid(), server.process.pid, *exclude}
    other = sum(
        spent - others_before.get(pid, 0.0)
        for pid, spent in user_processes_cpu_s().items()
        if pid not in mine
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if rate is None or count is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    problems = [
        line.strip() for line in out.splitlines() if "Socket errors" in line or "Non-2xx" in line
    ]
    requests = int(count.group(1))
    return WrkRun(
        requests_s=float(rate.group(1)),
        requests=requests,
        latency_p99=p99.group(1) if p99 else "?",
        cpu_us=cpu / max(1, requests) * 1e6,
        cpu_share=cpu / wall,
        other_share=max(0.0, other / wall),
        errors="; ".join(problems),
        bad_status=int(bad.group(1)) if bad else 0,
    )


@dataclass
class WarmCase:
    """One warm request (``path`` with ``headers``), and its wrk runs against both servers."""

    name: str
    path: str
    headers: dict[str, str]
    app: list[WrkRun] = field(default_factory=list)
    bare: list[WrkRun] = field(default_factory=list)

    def ratio(self) -> float:
        return statistics.mean(r.requests_s for r in self.app) / statistics.mean(
            r.requests_s for r in self.bare
        )


def measure_warm(
    cases: list[WarmCase], app: Server, bare: Server, args: argparse.Namespace, width: int
) -> None:
    """wrk on each case against both servers, each twice, app and bare alternated (app, bare,
    then bare, app) so that drift weighs on both; a 1 s warm-up per server first.

    ``args`` gives ``duration`` besides wrk's ``threads`` and ``connections``; ``width`` is
    the case-name column of the progress lines.
    """
    print(
        f"  warm: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s,"
        f" {len(cases)} cases x 2 runs x (app, bare)",
        flush=True,
    )
    pids = (app.process.pid, bare.process.pid)
    for case in cases:
        for server in (app, bare):
            run_wrk(server, case.path, case.headers, args, 1, pids)  # warm-up
        for order in ((app, bare), (bare, app)):
            for server in order:
                run = run_wrk(server, case.path, case.headers, args, args.duration, pids)
                (case.app if server is app else case.bare).append(run)
                if run.errors:
                    print(f"  WARNING {case.name} {server.name}: {run.errors}")
        print(
            f"    {case.name:<{width}} app {[round(r.requests_s) for r in case.app]}"
            f" bare {[round(r.requests_s) for r in case.bare]}",
            flush=True,
        )


# --- report -----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "OK" if ok else "BELOW TARGET"


def latency_ms(latency: str) -> str:
    """wrk's latency text (``830.58us``, ``2.41ms``, ``1.20s``) in milliseconds."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", latency)
    if found is None:
        return latency
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[found.group(2)]
    return f"{float(found.group(1)) * scale:.2f}"


def print_warm_table(cases: list[WarmCase], target: float, width: int) -> None:
    """The warm table: per run, app and bare requests/s, their ratio, CPU per request and
    share, p99 and the other processes' CPU; per case, the means and the verdict (app/bare of
    the mean requests/s ``>= target``). ``width`` is the case-name column."""
    head = (
        f"{'case':<{width}} {'run':>4} | {'app req/s':>9} {'bare req/s':>10} {'app/bare':>8} |"
        f" {'CPU us/req app':>14} {'bare':>5} | {'CPU% app':>8} {'bare':>4} |"
        f" {'p99 ms app':>10} {'bare':>6} | {'other':>5} | verdict (>= {target:.2f})"
    )
    print(head)
    print("-" * len(head))
    for case in cases:
        for i, (a, b) in enumerate(zip(case.app, case.bare, strict=True)):
            print(
                f"{case.name if i == 0 else '':<{width}} {i + 1:>4} | {a.requests_s:9,.0f}"
                f" {b.requests_s:10,.0f} {a.requests_s / b.requests_s:8.2f} |"
                f" {a.cpu_us:14.1f} {b.cpu_us:5.1f} | {a.cpu_share:8.0%} {b.cpu_share:4.0%} |"
                f" {latency_ms(a.latency_p99):>10} {latency_ms(b.latency_p99):>6} |"
                f" {max(a.other_share, b.other_share):5.0%} |"
            )
        app_mean = statistics.mean(x.requests_s for x in case.app)
        bare_mean = statistics.mean(x.requests_s for x in case.bare)
        print(
            f"{'':<{width}} {'mean':>4} | {app_mean:9,.0f} {bare_mean:10,.0f} {case.ratio():8.2f} |"
            f" {'':>14} {'':>5} | {'':>8} {'':>4} | {'':>10} {'':>6} | {'':>5} |"
            f" {verdict(case.ratio() >= target)}"
        )


def print_warm_warnings(cases: list[WarmCase]) -> None:
    """What makes the warm figures doubtful: other processes busy during the runs (the table's
    ``other`` column), and the errors wrk reported."""
    busiest = max(x.other_share for c in cases for x in (*c.app, *c.bare))
    if busiest > OTHER_LOAD_WARNING:
        print(
            f"WARNING: other processes used up to {busiest:.0%} of a CPU during the wrk runs"
            " ('other' column): the warm figures are disturbed; run again on a quiet machine"
        )
    errors = [f"{c.name}: {x.errors}" for c in cases for x in (*c.app, *c.bare) if x.errors]
    if errors:
        print("wrk reported: " + "; ".join(errors))
