"""Listing queries: pages of events and occurrences, with keyset cursors.

Every query reads an index range bounded by the page, not by the table:

- events in no window page through ``(start_ts, id)``;
- occurrences in a window come from the stored ``occurrences`` rows: short ones (at most
  ``SHORT_SPAN`` long) by their start from ``from - SHORT_SPAN``, long ones (rare) by their end
  through a partial index, and open-ended rules past their stored horizon expanded on the fly;
- events in a window are the same occurrences, each event at its first occurrence in the window.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from calendar_service.db.connection import Storage
from calendar_service.db.events import StoredEvent, record_from_row
from calendar_service.db.search import SearchMatch, words
from calendar_service.db.tables import event_tags, events, occurrences
from calendar_service.errors import BadRequest
from calendar_service.models import stored_event
from calendar_service.resilience import render_each
from calendar_service.schedule import SHORT_SPAN, occurrences_between


@dataclass(frozen=True)
class StoredOccurrence:
    """One occurrence of a stored event, as epoch seconds."""

    event: StoredEvent
    start_ts: int
    end_ts: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.start_ts, self.event.id)


@dataclass
class EventFilter:
    """What a listing asks for; every part narrows it."""

    from_ts: int | None = None
    to_ts: int | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    organizers: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=lambda: ["published"])
    q: str = ""
    updated_since_us: int | None = None
    cities: list[str] = field(default_factory=list)  # folded, as ``events.city_key``
    online: bool = False  # online or mixed only
    free: bool = False
    accessible: bool = False


def encode_cursor(kind: str, key: int, event_id: int) -> str:
    raw = f"{kind}:{key}:{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> tuple[int, int]:
    """The position a cursor of this ``kind`` of listing names; 400 for any other string."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, key, event_id = raw.split(":")
        if found != kind or abs(int(key)) >= 2**62 or not 0 <= int(event_id) < 2**31:
            raise ValueError(kind)
        return int(key), int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        message = "cursor is not one this listing gave out; start again without it"
        raise BadRequest(message, errors=[{"field": "cursor", "message": message}]) from None


def filter_conditions(flt: EventFilter, *, deleted: bool) -> list[Any]:
    """The WHERE clauses of a filter; ``deleted`` keeps tombstones."""
    where: list[Any] = []
    if not deleted:
        where.append(events.c.deleted_us.is_(None))
    if flt.states:
        where.append(events.c.state.in_(flt.states))
    if flt.categories:
        where.append(events.c.category.in_(flt.categories))
    if flt.statuses:
        where.append(events.c.status.in_(flt.statuses))
    if flt.organizers:
        where.append(events.c.organizer.in_(flt.organizers))
    if flt.tags:
        where.append(
            sa.exists().where(event_tags.c.event_id == events.c.id, event_tags.c.tag.in_(flt.tags))
        )
    found = words(flt.q)
    if found:
        where.append(SearchMatch(found))
    if flt.cities:
        where.append(events.c.city_key.in_(flt.cities))
    if flt.online:
        where.append(events.c.online == sa.true())
    if flt.free:
        where.append(events.c.free == sa.true())
    if flt.accessible:
        where.append(events.c.accessible == sa.true())
    if flt.updated_since_us is not None:
        where.append(events.c.updated_us >= flt.updated_since_us)
    return where


def _after(key_col: Any, id_col: Any, cursor: tuple[int, int] | None) -> list[Any]:
    """Rows after ``cursor`` in ``(key, id)`` order; the plain ``>=`` lets the index bound it."""
    if cursor is None:
        return []
    key, event_id = cursor
    return [key_col >= key, sa.or_(key_col > key, id_col > event_id)]


def _page(items: list[Any], limit: int, kind: str, key: Any) -> tuple[list[Any], str | None]:
    items.sort(key=key)
    page = items[:limit]
    if len(items) <= limit or not page:
        return page, None
    last_key, last_id = key(page[-1])
    return page, encode_cursor(kind, last_key, last_id)


async def list_events(
    storage: Storage, *, flt: EventFilter, limit: int, cursor: str | None, cap: int
) -> tuple[list[StoredEvent], str | None]:
    """One page of events (series), with the cursor of the next page (``None`` at the end).

    With a window (``flt.from_ts``/``to_ts``), the events that happen in it, by their first
    occurrence in it; with ``updated_since``, by last change, tombstones included; otherwise by
    start.
    """
    if flt.from_ts is not None and flt.to_ts is not None and flt.updated_since_us is None:
        after = decode_cursor(cursor, "w") if cursor else None
        found = await _window(
            storage,
            flt=flt,
            from_ts=flt.from_ts,
            to_ts=flt.to_ts,
            after=after,
            limit=limit,
            cap=cap,
            first_only=True,
        )
        page, next_cursor = _page(found, limit, "w", lambda o: o.key)
        return [o.event for o in page], next_cursor

    if flt.updated_since_us is not None:
        kind, key_col = "u", events.c.updated_us
    else:
        kind, key_col = "s", events.c.start_ts
    after = decode_cursor(cursor, kind) if cursor else None
    rows = await storage.fetch_all(
        sa.select(events)
        .where(
            *filter_conditions(flt, deleted=kind == "u"),
            *_after(key_col, events.c.id, after),
        )
        .order_by(key_col, events.c.id)
        .limit(limit + 1)
    )
    records = [record_from_row(r) for r in rows]
    if kind == "u":
        return _page(records, limit, kind, lambda e: (e.updated_us, e.id))
    return _page(records, limit, kind, lambda e: (e.start_ts, e.id))


async def list_occurrences(
    storage: Storage,
    *,
    flt: EventFilter,
    from_ts: int,
    to_ts: int,
    limit: int,
    cursor: str | None,
    cap: int,
    once: bool = False,
) -> tuple[list[StoredOccurrence], str | None]:
    """One page of occurrences overlapping ``[from_ts, to_ts)``, by start then event id; with
    ``once``, each event once, at its first occurrence in the window (a weekly series takes
    one place)."""
    kind = "f" if once else "o"
    after = decode_cursor(cursor, kind) if cursor else None
    found = await _window(
        storage,
        flt=flt,
        from_ts=from_ts,
        to_ts=to_ts,
        after=after,
        limit=limit,
        cap=cap,
        first_only=once,
    )
    return _page(found, limit, kind, lambda o: o.key)


async def _window(
    storage: Storage,
    *,
    flt: EventFilter,
    from_ts: int,
    to_ts: int,
    after: tuple[int, int] | None,
    limit: int,
    cap: int,
    first_only: bool,
) -> list[StoredOccurrence]:
    """Up to ``limit + 1`` occurrences after ``after`` in the window (with ``first_only``, only
    each event's first occurrence in the window)."""
    o = occurrences
    lo = from_ts - SHORT_SPAN
    base = [
        o.c.event_id == events.c.id,
        *filter_conditions(flt, deleted=False),
        o.c.start_ts < to_ts,
        sa.or_(o.c.end_ts > from_ts, o.c.start_ts >= from_ts),
        # Events whose stored occurrences stop before the window's end are expanded below.
        sa.or_(events.c.expanded_until_ts.is_(None), events.c.expanded_until_ts >= to_ts),
    ]
    columns = [*events.c, o.c.start_ts.label("o_start"), o.c.end_ts.label("o_end")]
    order = (o.c.start_ts, o.c.event_id)

    short = [*base, o.c.long == sa.false(), o.c.start_ts >= lo, *_after(*order, after)]
    if first_only:
        # All occurrences of an event have the same length, so an event's earlier occurrence
        # in the window is short too, and starts after ``lo``.
        p = occurrences.alias("p")
        short.append(
            ~sa.exists().where(
                p.c.event_id == o.c.event_id,
                p.c.start_ts >= lo,
                p.c.start_ts < o.c.start_ts,
                sa.or_(p.c.end_ts > from_ts, p.c.start_ts >= from_ts),
            )
        )
    # Rows repeat an event once per occurrence: its document is decoded once.
    records: dict[int, StoredEvent] = {}

    def occurrence(row: Any) -> StoredOccurrence:
        record = records.get(row["id"])
        if record is None:
            record = records[row["id"]] = record_from_row(row)
        return StoredOccurrence(record, row["o_start"], row["o_end"])

    rows = await storage.fetch_all(
        sa.select(*columns).where(*short).order_by(*order).limit(limit + 1)
    )
    found = [occurrence(r) for r in rows]

    # Long occurrences are few: read all of those in the window, and cut at the cursor here.
    # No ORDER BY: it would steer SQLite away from the partial index; they are sorted below.
    rows = await storage.fetch_all(
        sa.select(*columns).where(*base, o.c.long == sa.true(), o.c.end_ts > from_ts)
    )
    others = [occurrence(r) for r in rows]

    unexpanded = await storage.fetch_all(
        sa.select(events).where(
            *filter_conditions(flt, deleted=False),
            events.c.expanded_until_ts.is_not(None),
            events.c.expanded_until_ts < to_ts,
        )
    )
    if unexpanded:
        # Expanded in a thread: many open-ended series in a far window cost CPU, not the loop.
        series = [record_from_row(row) for row in unexpanded]
        others.extend(
            await asyncio.to_thread(_expanded, series, from_ts=from_ts, to_ts=to_ts, cap=cap)
        )

    if first_only:
        firsts: dict[int, StoredOccurrence] = {}
        for candidate in sorted(others, key=lambda x: x.key):
            firsts.setdefault(candidate.event.id, candidate)
        others = list(firsts.values())
    found.extend(x for x in others if after is None or x.key > after)
    return found


def _expanded(
    records: list[StoredEvent], *, from_ts: int, to_ts: int, cap: int
) -> list[StoredOccurrence]:
    """The occurrences in the window of events whose stored occurrences stop before it; an
    event that cannot be expanded is left out (``resilience``)."""

    def expand(record: StoredEvent) -> list[StoredOccurrence]:
        event = stored_event(record.document, record.state)
        times = occurrences_between(event, window_start=from_ts, window_end=to_ts, cap=cap)
        return [StoredOccurrence(record, t.start, t.end) for t in times]

    rows = render_each(records, expand, what="a listing", ident=lambda r: r.id)
    return [occurrence for found in rows for occurrence in found]
