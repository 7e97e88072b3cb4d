"""Event queries: every read and write of events, returning ``StoredEvent`` records.

Each write is one function, in one transaction, that also stores what is derived from the event
(its occurrences, tags and search text), so a reader never sees an event without them.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import sqlalchemy as sa

from calendar_service.dates import utc_now
from calendar_service.db.connection import Storage, is_unique_violation
from calendar_service.db.search import fold, search_values
from calendar_service.db.tables import event_ical, event_tags, events, occurrences, service_state
from calendar_service.digits import number_or_none
from calendar_service.errors import Conflict, PreconditionFailed
from calendar_service.models import EventIn
from calendar_service.schedule import Schedule
from calendar_service.vocabulary import SCHEDULE_FIELDS

CONTENT_VERSION = "content_version"


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: its canonical document and the bookkeeping around it."""

    id: int
    uid: str
    slug: str
    state: str
    sequence: int
    version: int
    created_us: int
    updated_us: int
    published_us: int | None
    deleted_us: int | None
    start_ts: int
    document: dict[str, Any]

    @property
    def etag_version(self) -> str:
        return f"{self.id}-{self.version}"


# Renders a stored event's VEVENTs: returns the rendering's key and ``{lang: VEVENT text}``.
Renderer = Callable[["StoredEvent"], tuple[str, dict[str, str]]]


def now_us() -> int:
    """Now as epoch microseconds, the unit of every stored timestamp."""
    return int(utc_now().timestamp() * 1_000_000)


def record_from_row(row: Any) -> StoredEvent:
    """A ``StoredEvent`` from a row of the events table."""
    return StoredEvent(
        id=row["id"],
        uid=row["uid"],
        slug=row["slug"],
        state=row["state"],
        sequence=row["sequence"],
        version=row["version"],
        created_us=row["created_us"],
        updated_us=row["updated_us"],
        published_us=row["published_us"],
        deleted_us=row["deleted_us"],
        start_ts=row["start_ts"],
        document=orjson.loads(row["document"]),
    )


# --- derived values ---------------------------------------------------------------------------


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    return slug[:80].rstrip("-") or "evenement"


def _document(event: EventIn) -> str:
    return event.model_dump_json(exclude={"uid", "slug", "state"})


def _values(event: EventIn, schedule: Schedule) -> dict[str, Any]:
    return {
        "state": event.state,
        "status": event.status,
        "category": event.category,
        "start_ts": schedule.start_ts,
        "end_ts": schedule.end_ts,
        "last_end_ts": schedule.last_end_ts,
        "expanded_until_ts": schedule.expanded_until_ts,
        **search_values(event),
        "document": _document(event),
        "timezone": event.timezone,
        "organizer": event.organizer.name if event.organizer else None,
        "media_id": event.image.media if event.image else None,
    }


async def _store_derived(
    storage: Storage, *, items: Sequence[tuple[int, EventIn, Schedule]], replace: bool
) -> None:
    """Store the occurrences and tags of ``(event_id, event, schedule)`` items."""
    ids = [event_id for event_id, _, _ in items]
    if replace:
        await storage.execute(occurrences.delete().where(occurrences.c.event_id.in_(ids)))
        await storage.execute(event_tags.delete().where(event_tags.c.event_id.in_(ids)))
    await storage.insert_rows(
        occurrences,
        [
            {"event_id": event_id, "start_ts": o.start, "end_ts": o.end, "long": o.long}
            for event_id, _, schedule in items
            for o in schedule.occurrences
        ],
    )
    await storage.insert_rows(
        event_tags,
        [{"event_id": event_id, "tag": t} for event_id, event, _ in items for t in event.tags],
    )


def _render_all(
    render: Renderer, events: Sequence[StoredEvent]
) -> list[tuple[str, dict[str, str]]]:
    return [render(event) for event in events]


async def _store_renderings(
    storage: Storage, *, stored: Sequence[StoredEvent], render: Renderer
) -> None:
    """Render the VEVENTs of ``stored`` events and keep them beside them (replacing older)."""
    for i in range(0, len(stored), 500):
        chunk = stored[i : i + 500]
        ids = [event.id for event in chunk]
        rows: list[dict[str, Any]] = []
        keys = set()
        # Rendered in a thread: Markdown and text work cost the loop nothing, however long.
        rendered = await asyncio.to_thread(_render_all, render, chunk)
        for event, (key, vevents) in zip(chunk, rendered, strict=True):
            keys.add(key)
            rows.extend(
                {"event_id": event.id, "lang": lang, "vevent": text}
                for lang, text in vevents.items()
            )
        await storage.execute(event_ical.delete().where(event_ical.c.event_id.in_(ids)))
        await storage.insert_rows(event_ical, rows)
        (key,) = keys
        await storage.execute(events.update().where(events.c.id.in_(ids)).values(render_key=key))


async def bump_content_version(storage: Storage) -> int:
    """Count one more change of what is published; every cache is keyed by this number."""
    value = await storage.fetch_val(
        service_state.update()
        .where(service_state.c.key == CONTENT_VERSION)
        .values(value=service_state.c.value + 1)
        .returning(service_state.c.value)
    )
    return int(value)


async def content_version(storage: Storage) -> int:
    """The current content version (see ``bump_content_version``)."""
    value = await storage.fetch_val(
        sa.select(service_state.c.value).where(service_state.c.key == CONTENT_VERSION)
    )
    return int(value)


async def _free_slug(storage: Storage, base: str) -> str:
    taken = {
        row["slug"]
        for row in await storage.fetch_all(
            sa.select(events.c.slug).where(
                sa.or_(events.c.slug == base, events.c.slug.like(base + "-%"))
            )
        )
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def default_slug(event: EventIn, default_language: str) -> str:
    title = event.title.get(default_language) or next(iter(event.title.values()), "")
    return f"{slugify(title)}-{event.start.isoformat()[:10]}"


# --- writes -----------------------------------------------------------------------------------


async def create_event(
    storage: Storage,
    *,
    event: EventIn,
    schedule: Schedule,
    render: Renderer,
    default_language: str,
    base_url: str,
    sequence: int = 0,
) -> StoredEvent:
    """Store a new (normalised) event; ``Conflict`` when its UID or slug is taken.

    ``sequence`` starts above 0 for an event imported from a calendar that already counted.
    """
    for attempt in range(5):
        try:
            async with storage.transaction():
                stored = await _insert(
                    storage,
                    event=event,
                    schedule=schedule,
                    default_language=default_language,
                    base_url=base_url,
                    sequence=sequence,
                )
                await _store_derived(storage, items=[(stored.id, event, schedule)], replace=False)
                await _store_renderings(storage, stored=[stored], render=render)
                await bump_content_version(storage)
                return stored
        except Exception as exc:
            # Two writers may pick the same generated slug at once (PostgreSQL): try again.
            if not is_unique_violation(exc) or event.slug is not None or attempt == 4:
                if is_unique_violation(exc):
                    raise Conflict("an event with this uid or slug already exists") from None
                raise
    raise AssertionError("unreachable")


async def _insert(
    storage: Storage,
    *,
    event: EventIn,
    schedule: Schedule,
    default_language: str,
    base_url: str,
    sequence: int = 0,
) -> StoredEvent:
    if event.uid is not None:
        clash = await storage.fetch_one(sa.select(events.c.id).where(events.c.uid == event.uid))
        if clash is not None:
            raise Conflict(f"uid {event.uid!r} is already used by event {clash['id']}")
    if event.slug is not None:
        clash = await storage.fetch_one(sa.select(events.c.id).where(events.c.slug == event.slug))
        if clash is not None:
            raise Conflict(f"slug {event.slug!r} is already used by event {clash['id']}")
        slug = event.slug
    else:
        base = default_slug(event, default_language)
        await storage.lock("slug:" + base)
        slug = await _free_slug(storage, base)
    uid = event.uid or f"{uuid.uuid4()}@{urlsplit(base_url).hostname or 'calendar'}"
    return await _insert_row(
        storage, event=event, schedule=schedule, uid=uid, slug=slug, sequence=sequence
    )


async def _insert_row(
    storage: Storage,
    *,
    event: EventIn,
    schedule: Schedule,
    uid: str,
    slug: str,
    sequence: int = 0,
) -> StoredEvent:
    stamp = now_us()
    row = await storage.fetch_one(
        events.insert()
        .values(
            uid=uid,
            slug=slug,
            sequence=sequence,
            version=1,
            created_us=stamp,
            updated_us=stamp,
            published_us=stamp if event.state == "published" else None,
            deleted_us=None,
            **_values(event, schedule),
        )
        .returning(*events.c)
    )
    assert row is not None
    return record_from_row(row)


def schedule_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether a change touches time, place or status (so calendars must replace the event)."""
    return any(before.get(name) != after.get(name) for name in SCHEDULE_FIELDS)


async def update_event(
    storage: Storage,
    *,
    current: StoredEvent,
    event: EventIn,
    schedule: Schedule,
    render: Renderer,
    min_sequence: int = 0,
) -> StoredEvent:
    """Replace ``current`` with ``event``; ``PreconditionFailed`` if it changed meanwhile.

    The SEQUENCE goes up by one when time, place or status change, and to at least
    ``min_sequence`` (an import from a calendar that counted further).
    """
    new_document = orjson.loads(_document(event))
    bump = 1 if schedule_changed(current.document, new_document) else 0
    sequence = max(current.sequence + bump, min_sequence)
    if event.slug is not None and event.slug != current.slug:
        clash = await storage.fetch_one(sa.select(events.c.id).where(events.c.slug == event.slug))
        if clash is not None:
            raise Conflict(f"slug {event.slug!r} is already used by event {clash['id']}")
    stamp = now_us()
    published = current.published_us
    if published is None and event.state == "published":
        published = stamp
    try:
        async with storage.transaction():
            row = await storage.fetch_one(
                events.update()
                .where(events.c.id == current.id, events.c.version == current.version)
                .values(
                    slug=event.slug or current.slug,
                    sequence=sequence,
                    version=events.c.version + 1,
                    updated_us=stamp,
                    published_us=published,
                    **_values(event, schedule),
                )
                .returning(*events.c)
            )
            if row is None:
                raise PreconditionFailed(
                    "the event was changed by someone else meanwhile; read it again"
                )
            await _store_derived(storage, items=[(current.id, event, schedule)], replace=True)
            stored = record_from_row(row)
            await _store_renderings(storage, stored=[stored], render=render)
            await bump_content_version(storage)
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("an event with this slug already exists") from None
        raise
    return stored


async def delete_event(storage: Storage, *, current: StoredEvent, render: Renderer) -> StoredEvent:
    """Turn the event into a tombstone: kept for feeds (as CANCELLED) and sync."""
    stamp = now_us()
    async with storage.transaction():
        row = await storage.fetch_one(
            events.update()
            .where(events.c.id == current.id, events.c.version == current.version)
            .values(
                sequence=events.c.sequence + 1,
                version=events.c.version + 1,
                updated_us=stamp,
                deleted_us=stamp,
            )
            .returning(*events.c)
        )
        if row is None:
            raise PreconditionFailed("the event was changed by someone else meanwhile")
        stored = record_from_row(row)
        await _store_renderings(storage, stored=[stored], render=render)
        await bump_content_version(storage)
    return stored


async def insert_many(
    storage: Storage, *, rows: Sequence[tuple[EventIn, Schedule, str, str]], render: Renderer
) -> None:
    """Store many new events in one transaction: rows of ``(event, schedule, uid, slug)``."""
    async with storage.transaction():
        stored = [
            await _insert_row(storage, event=event, schedule=schedule, uid=uid, slug=slug)
            for event, schedule, uid, slug in rows
        ]
        await _store_derived(
            storage,
            items=[
                (s.id, event, schedule)
                for s, (event, schedule, _, _) in zip(stored, rows, strict=True)
            ],
            replace=False,
        )
        await _store_renderings(storage, stored=stored, render=render)
        await bump_content_version(storage)


async def refresh_renderings(storage: Storage, *, render_key: str, render: Renderer) -> int:
    """Render again every event whose VEVENTs were made by another rendering; how many."""
    done = 0
    while True:
        rows = await storage.fetch_all(
            sa.select(events)
            .where(sa.or_(events.c.render_key.is_(None), events.c.render_key != render_key))
            .order_by(events.c.id)
            .limit(500)
        )
        if not rows:
            break
        async with storage.transaction():
            await _store_renderings(
                storage, stored=[record_from_row(row) for row in rows], render=render
            )
            await bump_content_version(storage)
        done += len(rows)
    return done


# --- reads ------------------------------------------------------------------------------------


async def get_event(storage: Storage, *, key: str, for_update: bool = False) -> StoredEvent | None:
    """The event whose id (all digits) or slug is ``key``, tombstones included.

    ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite writers are
    already one at a time), so a read-modify-write cannot lose a concurrent change.
    """
    number = number_or_none(key, most_digits=9)
    condition = events.c.id == number if number is not None else events.c.slug == key
    query = sa.select(events).where(condition)
    row = await storage.fetch_one(query.with_for_update() if for_update else query)
    return record_from_row(row) if row is not None else None


async def last_occurrence_start(storage: Storage, *, event_id: int) -> int | None:
    """The start of an event's last occurrence; ``None`` for a series without end (its stored
    occurrences stop at a horizon, not at its last date)."""
    row = await storage.fetch_one(
        sa.select(events.c.expanded_until_ts).where(events.c.id == event_id)
    )
    if row is None or row["expanded_until_ts"] is not None:
        return None
    last = await storage.fetch_val(
        sa.select(sa.func.max(occurrences.c.start_ts)).where(occurrences.c.event_id == event_id)
    )
    return None if last is None else int(last)


async def get_event_by_uid(storage: Storage, *, uid: str) -> StoredEvent | None:
    """The event with this iCalendar UID, tombstones included."""
    row = await storage.fetch_one(sa.select(events).where(events.c.uid == uid))
    return record_from_row(row) if row is not None else None


async def count_events(storage: Storage) -> int:
    return int(await storage.fetch_val(sa.select(sa.func.count()).select_from(events)))


async def all_events(storage: Storage) -> list[StoredEvent]:
    """Every event that is not deleted, oldest first (for export)."""
    rows = await storage.fetch_all(
        sa.select(events).where(events.c.deleted_us.is_(None)).order_by(events.c.id)
    )
    return [record_from_row(r) for r in rows]


async def events_in_other_zones(
    storage: Storage, *, accepted: frozenset[str]
) -> list[tuple[int, str, str]]:
    """``(id, slug, zone)`` of the live events whose zone is not one of ``accepted`` (stored by
    an older version): feeds leave them out until an editor chooses another zone."""
    zones = [
        row["timezone"]
        for row in await storage.fetch_all(
            sa.select(events.c.timezone).where(events.c.deleted_us.is_(None)).distinct()
        )
    ]
    others = [zone for zone in zones if zone not in accepted]
    if not others:
        return []
    rows = await storage.fetch_all(
        sa.select(events.c.id, events.c.slug, events.c.timezone)
        .where(events.c.deleted_us.is_(None), events.c.timezone.in_(others))
        .order_by(events.c.id)
    )
    return [(row["id"], row["slug"], row["timezone"]) for row in rows]
