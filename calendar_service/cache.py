"""Caches of rendered outputs (feeds, single-event files, event pages, blocks), keyed by the
content version.

Every write bumps a counter in the database (``content_version``). Each process remembers the
value it last read and reads it again at most once per ``interval`` seconds, or at once after
its own writes: warm requests touch no database, and every process sees another's writes within
the interval. An entry built under an older version is rebuilt on its next request.

What holds under writes and abuse:

- one build per key and version at a time: concurrent requests for a stale entry wait for the
  same build (a task of its own, so a client that goes away does not cancel it for the others);
- a budget in bytes (``CALENDAR_CACHE_BYTES``), not entries: the least recently used entries go
  first, and a body larger than the budget is served but not kept;
- gzip is made once per entry, on first demand, in a thread when the body is large.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from calendar_service import metrics
from calendar_service.db.connection import Storage
from calendar_service.db.events import content_version

# Bodies up to this size are compressed on the event loop (well under a millisecond).
INLINE_GZIP_BYTES = 32_000
# What an entry costs beyond its bodies (the object, its headers, its key).
ENTRY_OVERHEAD_BYTES = 1_000


class VersionClock:
    """The content version as this process knows it."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._value = 0
        self._read_at = float("-inf")
        self._reading = asyncio.Lock()

    async def current(self, storage: Storage) -> int:
        if time.monotonic() - self._read_at < self.interval:
            return self._value
        # One read for all the requests that find the value stale at the same moment.
        async with self._reading:
            if time.monotonic() - self._read_at >= self.interval:
                self._value = await content_version(storage)
                self._read_at = time.monotonic()
        return self._value

    def changed(self) -> None:
        """This process wrote: read the version again on the next request."""
        self._read_at = float("-inf")


@dataclass
class Rendered:
    """A rendered body with its validators, and its gzip form made on first demand."""

    version: int
    body: bytes
    etag: str
    gzip_etag: str
    last_modified: datetime
    last_modified_http: str
    headers: dict[str, str] = field(default_factory=dict)
    _gzipped: bytes | None = None
    _compressing: asyncio.Future[bytes] | None = None
    # Told how many bytes the entry grew by (its gzip form), by the cache that holds it.
    on_grow: Callable[[int], None] | None = None
    # The encoded headers of its answers given before routing, by status and gzip (four at
    # most), made on first use: a warm answer then encodes nothing.
    raw_headers: dict[tuple[int, bool], list[tuple[bytes, bytes]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def size(self) -> int:
        """What the entry holds in memory, roughly."""
        return len(self.body) + len(self._gzipped or b"") + ENTRY_OVERHEAD_BYTES

    async def gzipped(self) -> bytes:
        """The body compressed with gzip: made once, and off the event loop when large."""
        if self._gzipped is not None:
            return self._gzipped
        if len(self.body) <= INLINE_GZIP_BYTES:
            self._keep_gzip(_compress(self.body))
            assert self._gzipped is not None
            return self._gzipped
        if self._compressing is None:
            self._compressing = asyncio.ensure_future(asyncio.to_thread(_compress, self.body))
            self._compressing.add_done_callback(self._compressed)
        return await asyncio.shield(self._compressing)

    def _compressed(self, done: asyncio.Future[bytes]) -> None:
        if not done.cancelled() and done.exception() is None:
            self._keep_gzip(done.result())

    def _keep_gzip(self, data: bytes) -> None:
        if self._gzipped is None:
            self._gzipped = data
            if self.on_grow is not None:
                self.on_grow(len(data))

    @classmethod
    def build(
        cls, *, version: int, body: bytes, last_modified: datetime, headers: dict[str, str]
    ) -> Rendered:
        digest = hashlib.sha256(body).hexdigest()[:20]
        last_modified = last_modified.astimezone(UTC).replace(microsecond=0)
        return cls(
            version=version,
            body=body,
            etag=f'"{digest}"',
            gzip_etag=f'"{digest}-gz"',
            last_modified=last_modified,
            last_modified_http=format_datetime(last_modified, usegmt=True),
            headers=headers,
        )


def _compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


Build = Callable[[int], Awaitable[Rendered]]


class RenderedCache:
    """``Rendered`` entries, each valid for one content version, within a byte budget."""

    def __init__(self, clock: VersionClock, budget_bytes: int = 64_000_000) -> None:
        self.clock = clock
        self.budget_bytes = budget_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._building: dict[tuple[Hashable, int], asyncio.Task[Rendered]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, storage: Storage, key: Hashable, build: Build) -> Rendered:
        """The entry for ``key`` at the current version, built by ``build(version)`` if needed:
        by one build, whatever the number of requests waiting for it."""
        version = await self.clock.current(storage)
        entry = self._entries.get(key)
        if entry is not None and entry.version == version:
            metrics.cache_hit("rendered")
            self._entries.move_to_end(key)
            self.hits += 1
            return entry
        metrics.cache_miss("rendered")
        self.misses += 1
        task = self._building.get((key, version))
        if task is None:
            task = asyncio.ensure_future(self._build(key, version, build))
            self._building[(key, version)] = task
            task.add_done_callback(lambda done: self._built(key, version, done))
        return await asyncio.shield(task)

    async def _build(self, key: Hashable, version: int, build: Build) -> Rendered:
        metrics.cache_built("rendered")
        entry = await build(version)
        self._keep(key, entry)
        return entry

    def _built(self, key: Hashable, version: int, done: asyncio.Task[Rendered]) -> None:
        self._building.pop((key, version), None)
        if not done.cancelled():
            done.exception()  # retrieved: a failed build (a 404) is the waiters' answer

    def _keep(self, key: Hashable, entry: Rendered) -> None:
        current = self._entries.get(key)
        if current is not None and current.version > entry.version:
            return  # a newer build finished first
        if entry.size > self.budget_bytes:
            return  # served, not kept: it would push everything else out
        self._drop(key)
        self._entries[key] = entry
        entry.on_grow = self._grew
        self.bytes += entry.size
        self._evict()

    def _grew(self, added: int) -> None:
        self.bytes += added
        self._evict()

    def _measured(self) -> None:
        metrics.cache_size("rendered", self.bytes)

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            entry.on_grow = None
            self.bytes -= entry.size

    def _evict(self) -> None:
        while self.bytes > self.budget_bytes and self._entries:
            oldest = next(iter(self._entries))
            self._drop(oldest)
        self._measured()

    async def peek(self, storage: Storage, key: Hashable) -> Rendered | None:
        """The entry for ``key`` if it is current, without building anything."""
        entry = self._entries.get(key)
        if entry is None or entry.version != await self.clock.current(storage):
            return None
        metrics.cache_hit("rendered")
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def clear(self) -> None:
        for key in list(self._entries):
            self._drop(key)
        self._measured()


def text_size(text: str) -> int:
    """What a rendered text costs in memory."""
    return sys.getsizeof(text)
