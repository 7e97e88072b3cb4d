"""The editors' list of events: every state, upcoming first by next date, then the past ones,
latest first; a page costs the page, not the table."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from calendar_service.dates import epoch, utc_now
from calendar_service.db import events as store
from calendar_service.db.connection import Storage
from calendar_service.db.listings import EventFilter, filter_conditions
from calendar_service.db.search import words
from calendar_service.db.tables import events, occurrences
from calendar_service.schedule import SHORT_SPAN


async def editors_page(
    storage: Storage,
    *,
    states: list[str],
    statuses: list[str],
    q: str,
    period: str,
    from_ts: int | None,
    to_ts: int | None,
    page: int,
    page_size: int,
    count_cap: int,
) -> tuple[list[tuple[store.StoredEvent, int | None]], int]:
    """A page of events, upcoming first (by next date), then past ones (latest first), and
    the number of events that match, up to ``count_cap`` past the page's first (one more:
    more). ``period`` is "upcoming", "past" or "all"; ``from_ts`` and ``to_ts`` (epoch
    seconds, the end excluded) keep the events that meet that span.

    The page costs the page, not the table. The upcoming events come from a walk through the
    occurrences not yet over, in date order (the index on ``start_ts``), each event at its
    first one, until the page is full; long occurrences (few) and the open-ended series (few,
    their stored occurrences may stop before now: without one to come they sort by their
    start) are read apart. The past ones come from the index on ``start_ts``, latest first.
    """
    now = epoch(utc_now())
    where = filter_conditions(EventFilter(states=states, statuses=statuses, q=q), deleted=False)
    if from_ts is not None:
        where.append(events.c.last_end_ts > from_ts)
    if to_ts is not None:
        where.append(events.c.start_ts < to_ts)
    if period == "upcoming":
        where.append(events.c.last_end_ts > now)
    elif period == "past":
        where.append(events.c.last_end_ts <= now)
    skip, wanted = (page - 1) * page_size, page * page_size
    if words(q) or "published" not in states:
        # A search (through the full-text index) or the drafts and proposals (through the index
        # on state) find few events: read them whole and order them in memory, where the walk
        # through the dates would pass every other event. Too many, and the walk is cheap.
        if "published" not in states:  # in the words of the partial index, to be used
            where.append(sa.text("events.state <> 'published'"))
        gathered = await _gathered(storage, where=where, now=now, skip=skip, wanted=wanted)
        if gathered is not None:
            return gathered
    keys: dict[int, int] = {}  # upcoming event id -> its sort key (next start, or start)
    nexts: dict[int, int | None] = {}  # its next start
    known: tuple[int, int] | None = None  # the upcoming events up to here are all in ``keys``

    def seen(event_id: int, key: int, next_ts: int | None) -> None:
        if event_id not in keys or key < keys[event_id]:
            keys[event_id], nexts[event_id] = key, next_ts

    if period != "past":
        o = occurrences
        next_start = (
            sa.select(sa.func.min(o.c.start_ts))
            .where(o.c.event_id == events.c.id, o.c.end_ts > now)
            .scalar_subquery()
        )
        # A range (not IS NOT NULL) and no ``last_end_ts > now`` (checked here), so that
        # SQLite, without statistics, takes the index on ``expanded_until_ts``.
        for row in await storage.fetch_all(
            sa.select(
                events.c.id, events.c.start_ts, events.c.last_end_ts, next_start.label("next_ts")
            ).where(*where, events.c.expanded_until_ts >= -(2**62))
        ):
            next_ts = row["next_ts"]
            if row["last_end_ts"] > now:
                seen(row["id"], row["start_ts"] if next_ts is None else next_ts, next_ts)
        joined = [o.c.event_id == events.c.id, *where, o.c.end_ts > now]
        # No ORDER BY: it would steer SQLite away from the partial index on long ones.
        for row in await storage.fetch_all(
            sa.select(o.c.event_id, o.c.start_ts).where(*joined, o.c.long == sa.true())
        ):
            seen(row["event_id"], row["start_ts"], row["start_ts"])
        # A short occurrence not over yet began less than SHORT_SPAN ago.
        short = [*joined, o.c.long == sa.false(), o.c.start_ts > now - SHORT_SPAN]
        batch = wanted + 20  # a few more: an event may have several occurrences to come
        while True:
            after = []
            if known is not None:
                after = [
                    o.c.start_ts >= known[0],
                    sa.or_(o.c.start_ts > known[0], o.c.event_id > known[1]),
                ]
            rows = await storage.fetch_all(
                sa.select(o.c.event_id, o.c.start_ts)
                .where(*short, *after)
                .order_by(o.c.start_ts, o.c.event_id)
                .limit(batch)
            )
            for row in rows:
                seen(row["event_id"], row["start_ts"], row["start_ts"])
            if len(rows) < batch:
                known = None  # the walk went to the end: every upcoming event is known
                break
            known = (rows[-1]["start_ts"], rows[-1]["event_id"])
            if sum(1 for i, k in keys.items() if (k, i) <= known) >= wanted:
                break
            batch *= 2
    ordered = sorted(keys, key=lambda i: (keys[i], i))
    if known is not None:
        ordered = [i for i in ordered if (keys[i], i) <= known]
    page_ids = ordered[skip:wanted]
    by_id = {}
    if page_ids:
        rows = await storage.fetch_all(sa.select(events).where(events.c.id.in_(page_ids)))
        by_id = {r["id"]: store.record_from_row(r) for r in rows}
    found = [(by_id[i], nexts[i]) for i in page_ids if i in by_id]
    if known is None and len(ordered) < wanted:
        # The page reaches the past events: after every upcoming one, latest first.
        rows = await storage.fetch_all(
            sa.select(events)
            .where(*where, events.c.last_end_ts <= now, events.c.start_ts <= now)
            .order_by(events.c.start_ts.desc(), events.c.id)
            .limit(wanted - max(skip, len(ordered)))
            .offset(max(0, skip - len(ordered)))
        )
        found.extend((store.record_from_row(r), None) for r in rows)
    # Counted up to ``count_cap`` past this page's first event, so that the count costs no more than
    # the page: more is "more than" (the template tells it from ``page``).
    counted = sa.select(events.c.id).where(*where).limit(skip + count_cap + 1).subquery()
    total = await storage.fetch_val(sa.select(sa.func.count()).select_from(counted))
    return found, int(total or 0)


# A search, or a filter on the rarer states, reads its matches whole when they are few: the
# indexes bound them (a word in 1% of 100,000 events is a thousand rows), where the walk through
# the dates would pass the other 99%. Over this, the matches are dense enough for the walk.
MAX_MATCHES = 5_000


async def _gathered(
    storage: Storage, *, where: list[Any], now: int, skip: int, wanted: int
) -> tuple[list[tuple[store.StoredEvent, int | None]], int] | None:
    """``editors_page`` from the matching events read whole and ordered in memory as the list is
    (upcoming by next date, then past latest first); None when they are more than
    ``MAX_MATCHES``."""
    rows = await storage.fetch_all(
        sa.select(events.c.id, events.c.start_ts, events.c.last_end_ts)
        .where(*where)
        .limit(MAX_MATCHES + 1)
    )
    if len(rows) > MAX_MATCHES:
        return None
    upcoming = [r["id"] for r in rows if r["last_end_ts"] > now]
    nexts: dict[int, int] = {}
    for i in range(0, len(upcoming), 500):
        chunk = upcoming[i : i + 500]
        for row in await storage.fetch_all(
            sa.select(occurrences.c.event_id, sa.func.min(occurrences.c.start_ts).label("next"))
            .where(occurrences.c.event_id.in_(chunk), occurrences.c.end_ts > now)
            .group_by(occurrences.c.event_id)
        ):
            nexts[row["event_id"]] = int(row["next"])
    ahead = sorted(
        (r for r in rows if r["last_end_ts"] > now),
        key=lambda r: (nexts.get(r["id"], r["start_ts"]), r["id"]),
    )
    behind = sorted(
        (r for r in rows if r["last_end_ts"] <= now), key=lambda r: (-r["start_ts"], r["id"])
    )
    page_ids = [r["id"] for r in [*ahead, *behind][skip:wanted]]
    found = {}
    if page_ids:
        for row in await storage.fetch_all(sa.select(events).where(events.c.id.in_(page_ids))):
            found[row["id"]] = store.record_from_row(row)
    page = [(found[i], nexts.get(i)) for i in page_ids if i in found]
    return page, len(rows)
