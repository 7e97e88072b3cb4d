"""Caches of rendered outputs (feeds, single-event files), keyed by the content version.

Every write bumps a counter in the database (``content_version``). Each process remembers the
value it last read and reads it again at most once per ``interval`` seconds, or at once after
its own writes: warm requests touch no database, and every process sees another's writes within
the interval. An entry built under an older version is rebuilt on its next request.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from calendar_service import metrics
from calendar_service.db.connection import Storage
from calendar_service.db.events import content_version


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

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped

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


class RenderedCache:
    """A bounded LRU of ``Rendered`` entries, each valid for one content version."""

    def __init__(self, clock: VersionClock, size: int = 512) -> None:
        self.clock = clock
        self.size = size
        self._entries: OrderedDict[Hashable, Rendered] = OrderedDict()

    async def get(
        self,
        storage: Storage,
        key: Hashable,
        build: Callable[[int], Awaitable[Rendered]],
    ) -> Rendered:
        """The entry for ``key`` at the current version, built by ``build(version)`` if needed."""
        version = await self.clock.current(storage)
        entry = self._entries.get(key)
        if entry is not None and entry.version == version:
            metrics.cache_hit("rendered")
            self._entries.move_to_end(key)
            return entry
        metrics.cache_miss("rendered")
        entry = await build(version)
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry

    async def peek(self, storage: Storage, key: Hashable) -> Rendered | None:
        """The entry for ``key`` if it is current, without building anything."""
        entry = self._entries.get(key)
        if entry is None or entry.version != await self.clock.current(storage):
            return None
        metrics.cache_hit("rendered")
        return entry

    def clear(self) -> None:
        self._entries.clear()
