"""Prometheus metrics: requests by route template and status, their latency, the requests in
flight, and the hits and misses of the caches.

One set of instruments per process, made on first use in a registry of its own: importing this
module registers nothing, and a test process that makes many apps shares one set (tests compare
counts before and after). With several worker processes (``serve --workers N``)
prometheus-client's multiprocess mode keeps each process's values in files under
``PROMETHEUS_MULTIPROC_DIR``, and a scrape of any worker adds up the files of them all.
"""

from __future__ import annotations

import bisect
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

# prometheus-client's own variable, which the library reads when it is imported: `serve` sets
# it before the worker processes start, and this module reads it only to agree with the library.
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# The text format every Prometheus version reads (what generate_latest writes by default).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Any other method a client sends is counted as OTHER: labels must stay a small, known set.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The route label of requests that matched no route (never the raw path: unbounded cardinality).
UNMATCHED = "(unmatched)"
# Warm answers take well under a millisecond; digests and imports take seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Instruments:
    """The metrics of one process and the registry that holds them. With one process, the
    requests and cache hits are ``Tallies``; with several, prometheus-client's own counters,
    whose values it keeps in the files a scrape adds up."""

    registry: CollectorRegistry
    tallies: Tallies | None
    requests: Counter | None
    duration: Histogram | None
    cache_hits: Counter | None
    cache_misses: Counter | None
    in_flight: Gauge
    cache_builds: Counter
    cache_bytes: Gauge
    # The labelled children already looked up: ``labels()`` costs more than the count itself,
    # and the labels are a small, bounded set.
    children: dict[tuple[str, ...], tuple[Counter, Histogram]] = field(default_factory=dict)
    caches: dict[tuple[str, bool], Counter] = field(default_factory=dict)


REQUESTS = (
    "calendar_http_requests",
    "HTTP requests answered, by method, route template and status code.",
)
DURATION = (
    "calendar_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
)
CACHE_HITS = ("calendar_cache_hits", "Answers found ready in a cache, by cache.")
CACHE_MISSES = ("calendar_cache_misses", "Answers a cache had to build, by cache.")


class Tallies(Collector):
    """Request counts and latencies and cache hits and misses of one process, kept in plain
    dictionaries and read as Prometheus samples when scraped: a cached answer costs tens of
    microseconds, and four updates of prometheus-client's counters were a tenth of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # blocks are rendered (and counted) in worker threads
        self.requests: dict[tuple[str, str, str], int] = {}
        # By route: one count per bucket, one past the last bucket (+Inf), then the sum.
        self.durations: dict[str, list[float]] = {}
        self.caches: dict[tuple[str, bool], int] = {}

    def request(self, key: tuple[str, str, str], seconds: float) -> None:
        with self._lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            counts = self.durations.get(key[1])
            if counts is None:
                counts = self.durations[key[1]] = [0.0] * (len(BUCKETS) + 2)
            counts[bisect.bisect_left(BUCKETS, seconds)] += 1
            counts[-1] += seconds

    def cache(self, name: str, hit: bool) -> None:
        with self._lock:
            self.caches[name, hit] = self.caches.get((name, hit), 0) + 1

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            requests = dict(self.requests)
            durations = {route: list(counts) for route, counts in self.durations.items()}
            caches = dict(self.caches)
        counted = CounterMetricFamily(*REQUESTS, labels=["method", "route", "status"])
        for labels, times in sorted(requests.items()):
            counted.add_metric(list(labels), times)
        yield counted
        timed = HistogramMetricFamily(*DURATION, labels=["route"])
        for route, counts in sorted(durations.items()):
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, in_bucket in zip((*BUCKETS, float("inf")), counts[:-1], strict=True):
                cumulative += in_bucket
                buckets.append((floatToGoString(bound), cumulative))  # type: ignore[no-untyped-call]
            timed.add_metric([route], buckets, sum_value=counts[-1])
        yield timed
        for (name, doc), hit in ((CACHE_HITS, True), (CACHE_MISSES, False)):
            family = CounterMetricFamily(name, doc, labels=["cache"])
            for (cache_name, kind), count in sorted(caches.items()):
                if kind is hit:
                    family.add_metric([cache_name], count)
            yield family


class InFlight:
    """The requests being answered: a plain count, read by the gauge when scraped (two
    Prometheus updates a request cost more than a cached answer's own work). With several
    workers the gauge keeps its own value in the shared files instead."""

    def __init__(self) -> None:
        self.count = 0
        self.shared = bool(os.environ.get(MULTIPROCESS_VARIABLE))


@cache
def in_flight() -> InFlight:
    return InFlight()


@cache
def instruments() -> Instruments:
    """This process's instruments, made on the first call."""
    registry = CollectorRegistry()
    counted = in_flight()
    tallies: Tallies | None = None
    requests = duration = hits = misses = None
    if counted.shared:
        requests = Counter(*REQUESTS, ["method", "route", "status"], registry=registry)
        duration = Histogram(*DURATION, ["route"], registry=registry, buckets=BUCKETS)
        hits = Counter(*CACHE_HITS, ["cache"], registry=registry)
        misses = Counter(*CACHE_MISSES, ["cache"], registry=registry)
    else:
        tallies = Tallies()
        registry.register(tallies)
    found = Instruments(
        registry=registry,
        tallies=tallies,
        requests=requests,
        duration=duration,
        cache_hits=hits,
        cache_misses=misses,
        in_flight=Gauge(
            "calendar_http_requests_in_flight",
            "HTTP requests being answered.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        cache_builds=Counter(
            "calendar_cache_builds",
            "Builds a cache ran: one per key and version, however many requests waited for it.",
            ["cache"],
            registry=registry,
        ),
        cache_bytes=Gauge(
            "calendar_cache_bytes",
            "Bytes a cache holds (within its budget), by cache.",
            ["cache"],
            registry=registry,
            multiprocess_mode="livesum",
        ),
    )
    if not counted.shared:
        found.in_flight.set_function(lambda: counted.count)
    return found


def _cache(name: str, hit: bool) -> None:
    found = instruments()
    if found.tallies is not None:
        found.tallies.cache(name, hit)
        return
    counter = found.caches.get((name, hit))
    if counter is None:
        family = found.cache_hits if hit else found.cache_misses
        assert family is not None
        counter = family.labels(name)
        found.caches[name, hit] = counter
    counter.inc()


def cache_hit(name: str) -> None:
    """Count an answer found ready in the cache ``name``."""
    _cache(name, True)


def cache_miss(name: str) -> None:
    """Count an answer the cache ``name`` had to build."""
    _cache(name, False)


def cache_built(name: str) -> None:
    """Count a build the cache ``name`` ran."""
    instruments().cache_builds.labels(name).inc()


def cache_size(name: str, size: int) -> None:
    """Set the bytes the cache ``name`` holds."""
    instruments().cache_bytes.labels(name).set(size)


def request_started() -> None:
    """A request came in (the in-flight gauge goes up until ``request_finished``)."""
    counted = in_flight()
    counted.count += 1
    if counted.shared:
        instruments().in_flight.inc()


def request_finished(*, method: str, route: str | None, status: int, seconds: float) -> None:
    """Count a request answered with ``status`` after ``seconds``; ``route`` is its template."""
    found = instruments()
    counted = in_flight()
    counted.count -= 1
    key = (method if method in METHODS else "OTHER", route or UNMATCHED, str(status))
    if found.tallies is not None:
        found.tallies.request(key, seconds)
        return
    found.in_flight.dec()
    children = found.children.get(key)
    if children is None:
        assert found.requests is not None and found.duration is not None
        children = (found.requests.labels(*key), found.duration.labels(key[1]))
        found.children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def exposition() -> bytes:
    """The text a Prometheus scrape reads: this process's metrics, or with several worker
    processes the sum over all of them."""
    folder = os.environ.get(MULTIPROCESS_VARIABLE)
    if folder:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(instruments().registry)


@contextmanager
def shared_between(workers: int) -> Iterator[None]:
    """Around the run of ``workers`` processes: each one's metrics in files that a scrape adds up.

    A folder given in ``PROMETHEUS_MULTIPROC_DIR`` is emptied of the last run's files (they
    would be added to this run's); with several workers and no folder given, a temporary one
    is made for the run and removed after it. Enter this before the workers start: they read
    the variable when they import prometheus-client.
    """
    given = os.environ.get(MULTIPROCESS_VARIABLE)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield
        return
    if workers == 1:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="calendar-metrics-") as made:
        os.environ[MULTIPROCESS_VARIABLE] = made
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_VARIABLE]
