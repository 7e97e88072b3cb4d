"""The public agenda's queries: search results by rank, the past (an archive, latest first),
the occurrences of a month as light rows, the counts of a series' dates, and the cities.

Each costs the page, not the table: searches read the full-text index's matches (their rank
ordered in the database, one page kept), the past walks the index on ``start_ts`` backwards,
and a month reads its occurrences' ids and times only, the events' documents being fetched for
the few shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from calendar_service.db.connection import Storage
from calendar_service.db.events import StoredEvent, record_from_row
from calendar_service.db.listings import (
    EventFilter,
    decode_cursor,
    encode_cursor,
    filter_conditions,
)
from calendar_service.db.search import ranked_ids, words
from calendar_service.db.tables import events, occurrences
from calendar_service.models import stored_event
from calendar_service.resilience import render_each
from calendar_service.schedule import SHORT_SPAN, occurrences_between


@dataclass(frozen=True)
class Slot:
    """One occurrence, as a month shows it: which event, when."""

    event_id: int
    start_ts: int
    end_ts: int


async def search_page(
    storage: Storage,
    *,
    flt: EventFilter,
    from_ts: int | None,
    to_ts: int | None,
    offset: int,
    limit: int,
) -> list[StoredEvent]:
    """Events matching ``flt.q``, best first (then by start), that meet ``[from_ts, to_ts)``;
    up to ``limit + 1`` from ``offset``."""
    found = words(flt.q)
    if not found:
        return []
    hits = ranked_ids(storage, found)
    where = filter_conditions(EventFilter(**{**flt.__dict__, "q": ""}), deleted=False)
    if from_ts is not None:
        where.append(events.c.last_end_ts > from_ts)
    if to_ts is not None:
        where.append(events.c.start_ts < to_ts)
    rows = await storage.fetch_all(
        sa.select(events)
        .join(hits, hits.c.id == events.c.id)
        .where(*where)
        .order_by(hits.c.rank, events.c.start_ts, events.c.id)
        .limit(limit + 1)
        .offset(offset)
    )
    return [record_from_row(row) for row in rows]


async def past_page(
    storage: Storage, *, flt: EventFilter, now_ts: int, cursor: str | None, limit: int
) -> tuple[list[StoredEvent], str | None]:
    """Events over by ``now_ts``, the latest to end first (a series by its last date), through
    the index on ``(last_end_ts, id)``."""
    where = filter_conditions(flt, deleted=False)
    where.append(events.c.last_end_ts <= now_ts)
    if cursor:
        key, event_id = decode_cursor(cursor, "p")
        where.extend(
            [
                events.c.last_end_ts <= key,
                sa.or_(events.c.last_end_ts < key, events.c.id < event_id),
            ]
        )
    rows = await storage.fetch_all(
        sa.select(events)
        .where(*where)
        .order_by(events.c.last_end_ts.desc(), events.c.id.desc())
        .limit(limit + 1)
    )
    found = [record_from_row(row) for row in rows]
    if len(found) <= limit:
        return found, None
    last = rows[limit - 1]
    return found[:limit], encode_cursor("p", int(last["last_end_ts"]), int(last["id"]))


async def last_times(storage: Storage, ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """For each event of ``ids``: its last stored occurrence and how many it has:
    ``{id: (start, end, n)}`` (the archive shows a past series at its last date)."""
    return await _times(storage, ids, sa.func.max, [])


async def first_times(
    storage: Storage, ids: Sequence[int], *, from_ts: int, to_ts: int
) -> dict[int, tuple[int, int, int]]:
    """For each event of ``ids``: its first stored occurrence not over at ``from_ts`` and
    starting before ``to_ts``, and how many such occurrences it has: ``{id: (start, end, n)}``."""
    o = occurrences
    return await _times(storage, ids, sa.func.min, [o.c.end_ts > from_ts, o.c.start_ts < to_ts])


async def _times(
    storage: Storage, ids: Sequence[int], pick: Any, where: list[Any]
) -> dict[int, tuple[int, int, int]]:
    """For each event of ``ids``, the occurrence whose start ``pick`` (``min`` or ``max``)
    chooses among those ``where`` keeps, with its end, and how many were kept."""
    if not ids:
        return {}
    o = occurrences
    rows = await storage.fetch_all(
        sa.select(o.c.event_id, pick(o.c.start_ts).label("chosen"), sa.func.count().label("n"))
        .where(o.c.event_id.in_(list(ids)), *where)
        .group_by(o.c.event_id)
    )
    chosen = {row["event_id"]: (int(row["chosen"]), int(row["n"])) for row in rows}
    if not chosen:
        return {}
    ends = await storage.fetch_all(
        sa.select(o.c.event_id, o.c.start_ts, o.c.end_ts).where(
            sa.tuple_(o.c.event_id, o.c.start_ts).in_([(i, s) for i, (s, _) in chosen.items()])
        )
    )
    return {
        row["event_id"]: (int(row["start_ts"]), int(row["end_ts"]), chosen[row["event_id"]][1])
        for row in ends
    }


async def month_slots(
    storage: Storage, *, flt: EventFilter, from_ts: int, to_ts: int, cap: int
) -> list[Slot]:
    """Every occurrence overlapping ``[from_ts, to_ts)`` as (event, start, end), by start:
    ids and times only (a month of a dense agenda holds hundreds). Series whose stored
    occurrences stop before the window are expanded (in a thread)."""
    o = occurrences
    where = filter_conditions(flt, deleted=False)
    base = [
        o.c.event_id == events.c.id,
        *where,
        o.c.start_ts < to_ts,
        sa.or_(events.c.expanded_until_ts.is_(None), events.c.expanded_until_ts >= to_ts),
    ]
    short = await storage.fetch_tuples(
        sa.select(o.c.event_id, o.c.start_ts, o.c.end_ts)
        .where(*base, o.c.long == sa.false(), o.c.start_ts >= from_ts - SHORT_SPAN)
        .where(sa.or_(o.c.end_ts > from_ts, o.c.start_ts >= from_ts))
    )
    long = await storage.fetch_tuples(
        sa.select(o.c.event_id, o.c.start_ts, o.c.end_ts).where(
            *base, o.c.long == sa.true(), o.c.end_ts > from_ts
        )
    )
    slots = [Slot(int(i), int(s), int(e)) for i, s, e in [*short, *long]]
    unexpanded = await storage.fetch_all(
        sa.select(events).where(
            *where, events.c.expanded_until_ts.is_not(None), events.c.expanded_until_ts < to_ts
        )
    )
    if unexpanded:
        records = [record_from_row(row) for row in unexpanded]
        slots.extend(await asyncio.to_thread(_expanded, records, from_ts, to_ts, cap))
    return sorted(slots, key=lambda s: (s.start_ts, s.event_id))


def _expanded(records: list[StoredEvent], from_ts: int, to_ts: int, cap: int) -> list[Slot]:
    def expand(record: StoredEvent) -> list[Slot]:
        event = stored_event(record.document, record.state)
        times = occurrences_between(event, window_start=from_ts, window_end=to_ts, cap=cap)
        return [Slot(record.id, t.start, t.end) for t in times]

    found = render_each(records, expand, what="the agenda", ident=lambda r: r.id)
    return [slot for slots in found for slot in slots]


async def events_by_id(storage: Storage, ids: Sequence[int]) -> dict[int, StoredEvent]:
    """The events of ``ids`` (those that exist)."""
    if not ids:
        return {}
    rows = await storage.fetch_all(sa.select(events).where(events.c.id.in_(list(ids))))
    return {row["id"]: record_from_row(row) for row in rows}


async def cities(storage: Storage, *, flt: EventFilter, now_ts: int, most: int) -> list[Any]:
    """The cities of the upcoming events (``city_key``, and one event id to read its name as
    written), the ``most`` with the most events."""
    where = filter_conditions(flt, deleted=False)
    return list(
        await storage.fetch_all(
            sa.select(events.c.city_key, sa.func.min(events.c.id).label("example"))
            .where(*where, events.c.last_end_ts > now_ts, events.c.city_key.is_not(None))
            .group_by(events.c.city_key)
            .order_by(sa.func.count().desc(), events.c.city_key)
            .limit(most)
        )
    )
