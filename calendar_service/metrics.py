"""Prometheus metrics: requests by route template and status, their latency, the requests in
flight, and the hits and misses of the caches.

One set of instruments per process, made on first use in a registry of its own: importing this
module registers nothing, and a test process that makes many apps shares one set (tests compare
counts before and after). With several worker processes (``serve --workers N``)
prometheus-client's multiprocess mode keeps each process's values in files under
``PROMETHEUS_MULTIPROC_DIR``, and a scrape of any worker adds up the files of them all.
"""

from __future__ import annotations

import os
import tempfile
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
from prometheus_client.multiprocess import MultiProcessCollector

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
    """The metrics of one process and the registry that holds them."""

    registry: CollectorRegistry
    requests: Counter
    duration: Histogram
    in_flight: Gauge
    cache_hits: Counter
    cache_misses: Counter
    cache_builds: Counter
    cache_bytes: Gauge
    # The labelled children already looked up: ``labels()`` costs more than the count itself,
    # and the labels are a small, bounded set.
    children: dict[tuple[str, ...], tuple[Counter, Histogram]] = field(default_factory=dict)
    caches: dict[tuple[str, bool], Counter] = field(default_factory=dict)


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
    found = Instruments(
        registry=registry,
        requests=Counter(
            "calendar_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        ),
        duration=Histogram(
            "calendar_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route"],
            registry=registry,
            buckets=BUCKETS,
        ),
        in_flight=Gauge(
            "calendar_http_requests_in_flight",
            "HTTP requests being answered.",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        cache_hits=Counter(
            "calendar_cache_hits",
            "Answers found ready in a cache, by cache.",
            ["cache"],
            registry=registry,
        ),
        cache_misses=Counter(
            "calendar_cache_misses",
            "Answers a cache had to build, by cache.",
            ["cache"],
            registry=registry,
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
    counted = in_flight()
    if not counted.shared:
        found.in_flight.set_function(lambda: counted.count)
    return found


def _cache_counter(name: str, hit: bool) -> Counter:
    found = instruments()
    counter = found.caches.get((name, hit))
    if counter is None:
        counter = (found.cache_hits if hit else found.cache_misses).labels(name)
        found.caches[name, hit] = counter
    return counter


def cache_hit(name: str) -> None:
    """Count an answer found ready in the cache ``name``."""
    _cache_counter(name, True).inc()


def cache_miss(name: str) -> None:
    """Count an answer the cache ``name`` had to build."""
    _cache_counter(name, False).inc()


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
    if counted.shared:
        found.in_flight.dec()
    key = (method if method in METHODS else "OTHER", route or UNMATCHED, str(status))
    children = found.children.get(key)
    if children is None:
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
