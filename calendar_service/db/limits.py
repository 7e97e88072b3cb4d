"""Limits counted in the database: at most N hits per key in a sliding window.

A hit is counted *before* the work it limits (checking a password, storing a proposal), in one
transaction that holds a lock on the key: two requests at the same moment, in one process or
in several, cannot both see room for one. SQLite writers are one at a time already (BEGIN
IMMEDIATE); PostgreSQL takes a transaction advisory lock per key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

from calendar_service.db.connection import Storage
from calendar_service.db.events import now_us
from calendar_service.db.tables import limit_hits


@dataclass(frozen=True)
class Limit:
    """At most ``most`` hits for ``key`` within ``window_us``."""

    key: str
    most: int
    window_us: int


@dataclass(frozen=True)
class Taken:
    """The outcome of ``take``: the hit's rows (to release them), or how long to wait."""

    ids: tuple[int, ...] = ()
    retry_after: int | None = None

    @property
    def allowed(self) -> bool:
        return self.retry_after is None


async def take(storage: Storage, limits: list[Limit]) -> Taken:
    """Count one hit against every limit, or none when any of them is full: then
    ``retry_after`` says in how many seconds the fullest one has room again."""
    now = now_us()
    async with storage.transaction():
        for limit in sorted(limits, key=lambda item: item.key):  # one lock order: no deadlock
            await storage.lock("limit:" + limit.key)
        waits = []
        for limit in limits:
            since = now - limit.window_us
            await storage.execute(
                limit_hits.delete().where(limit_hits.c.key == limit.key, limit_hits.c.at_us < since)
            )
            row = await storage.fetch_one(
                sa.select(
                    sa.func.count().label("n"), sa.func.min(limit_hits.c.at_us).label("first")
                ).where(limit_hits.c.key == limit.key)
            )
            assert row is not None
            if int(row["n"]) >= limit.most:
                first = int(row["first"])
                waits.append(max(1, math.ceil((first + limit.window_us - now) / 1_000_000)))
        if waits:
            return Taken(retry_after=max(waits))
        ids = []
        for limit in limits:
            ids.append(
                int(
                    await storage.fetch_val(
                        limit_hits.insert()
                        .values(key=limit.key, at_us=now)
                        .returning(limit_hits.c.id)
                    )
                )
            )
    return Taken(ids=tuple(ids))


async def release(storage: Storage, taken: Taken) -> None:
    """Take back a hit that should not count (a sign-in that succeeded)."""
    if taken.ids:
        await storage.execute(limit_hits.delete().where(limit_hits.c.id.in_(taken.ids)))


async def forget(storage: Storage, key: str) -> None:
    """Forget every hit of ``key`` (an account that signed in)."""
    await storage.execute(limit_hits.delete().where(limit_hits.c.key == key))


async def hits(storage: Storage, key: str, *, since_us: int) -> int:
    """How many hits ``key`` has had since ``since_us``."""
    return int(
        await storage.fetch_val(
            sa.select(sa.func.count()).where(
                limit_hits.c.key == key, limit_hits.c.at_us >= since_us
            )
        )
    )
