"""Feed queries: the stored VEVENTs of the events a feed holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from calendar_service.db.connection import Storage
from calendar_service.db.listings import EventFilter, filter_conditions
from calendar_service.db.tables import event_ical, events

COLUMNS = (
    event_ical.c.vevent,
    events.c.timezone,
    events.c.start_ts,
    events.c.last_end_ts,
    events.c.updated_us,
)


@dataclass(frozen=True)
class FeedItem:
    """One event's stored VEVENT, with what the feed header needs to know of it."""

    vevent: str
    timezone: str
    start_ts: int
    last_end_ts: int
    updated_us: int


async def feed_items(
    storage: Storage,
    *,
    flt: EventFilter,
    lang: str,
    past_cutoff_ts: int,
    cancelled_cutoff_us: int,
) -> list[FeedItem]:
    """The published events of a feed, by start.

    Events that ended before ``past_cutoff_ts`` are left out; cancelled and deleted events stay
    (their VEVENT says CANCELLED) until ``cancelled_cutoff_us`` passes their last change. Read
    as plain rows: the feed is thousands of them, and each costs what the driver gives.
    """
    flt = EventFilter(**{**flt.__dict__, "states": ["published"]})
    cancelled = sa.or_(events.c.deleted_us.is_not(None), events.c.status == "cancelled")
    rows = await storage.fetch_tuples(
        sa.select(*COLUMNS)
        .where(
            event_ical.c.event_id == events.c.id,
            event_ical.c.lang == lang,
            *filter_conditions(flt, deleted=True),
            events.c.last_end_ts >= past_cutoff_ts,
            sa.or_(sa.not_(cancelled), events.c.updated_us >= cancelled_cutoff_us),
        )
        .order_by(events.c.start_ts, events.c.id)
    )
    return [FeedItem(*row) for row in rows]


async def event_item(storage: Storage, *, event_id: int, lang: str) -> FeedItem | None:
    """The stored VEVENT of one event in ``lang``."""
    row = await storage.fetch_one(
        sa.select(*COLUMNS).where(
            event_ical.c.event_id == events.c.id,
            events.c.id == event_id,
            event_ical.c.lang == lang,
        )
    )
    return _item(row) if row is not None else None


def _item(row: Mapping[str, Any]) -> FeedItem:
    return FeedItem(
        row["vevent"], row["timezone"], row["start_ts"], row["last_end_ts"], row["updated_us"]
    )
