"""Event queries: every read and write of events, returning ``StoredEvent`` records.

Each write is one function, in one transaction, that also stores what is derived from the event
(its occurrences, tags and search text), so a reader never sees an event without them.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import sqlalchemy as sa

from calendar_service.dates import utc_now
from calendar_service.db.connection import Storage, is_unique_violation
from calendar_service.db.tables import event_tags, events, occurrences
from calendar_service.errors import Conflict, PreconditionFailed
from calendar_service.models import EventIn
from calendar_service.schedule import Schedule
from calendar_service.vocabulary import SCHEDULE_FIELDS


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


def fold(text: str) -> str:
    """Lower-case, accent-free text for searching ("Événement" matches "evenement")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_text(event: EventIn) -> str:
    parts: list[str] = []
    for texts in (event.title, event.summary, event.description):
        parts.extend(texts.values())
    parts.extend(event.tags)
    if event.location:
        parts.extend(
            filter(None, [event.location.name, event.location.city, event.location.address])
        )
    if event.organizer:
        parts.append(event.organizer.name)
    parts.extend(p.name for p in event.partners)
    return fold(" ".join(parts))


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
        "search_text": search_text(event),
        "document": _document(event),
    }


async def _store_derived(
    storage: Storage, *, event_id: int, event: EventIn, schedule: Schedule, replace: bool
) -> None:
    if replace:
        await storage.execute(occurrences.delete().where(occurrences.c.event_id == event_id))
        await storage.execute(event_tags.delete().where(event_tags.c.event_id == event_id))
    await storage.execute_many(
        occurrences.insert(),
        [
            {"event_id": event_id, "start_ts": o.start, "end_ts": o.end, "long": o.long}
            for o in schedule.occurrences
        ],
    )
    await storage.execute_many(
        event_tags.insert(), [{"event_id": event_id, "tag": t} for t in event.tags]
    )


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
    storage: Storage, *, event: EventIn, schedule: Schedule, default_language: str, base_url: str
) -> StoredEvent:
    """Store a new (normalised) event; ``Conflict`` when its UID or slug is taken."""
    for attempt in range(5):
        try:
            async with storage.transaction():
                return await _insert(
                    storage,
                    event=event,
                    schedule=schedule,
                    default_language=default_language,
                    base_url=base_url,
                )
        except Exception as exc:
            # Two writers may pick the same generated slug at once (PostgreSQL): try again.
            if not is_unique_violation(exc) or event.slug is not None or attempt == 4:
                if is_unique_violation(exc):
                    raise Conflict("an event with this uid or slug already exists") from None
                raise
    raise AssertionError("unreachable")


async def _insert(
    storage: Storage, *, event: EventIn, schedule: Schedule, default_language: str, base_url: str
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
    stamp = now_us()
    row = await storage.fetch_one(
        events.insert()
        .values(
            uid=uid,
            slug=slug,
            sequence=0,
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
    stored = record_from_row(row)
    await _store_derived(storage, event_id=stored.id, event=event, schedule=schedule, replace=False)
    return stored


def schedule_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether a change touches time, place or status (so calendars must replace the event)."""
    return any(before.get(name) != after.get(name) for name in SCHEDULE_FIELDS)


async def update_event(
    storage: Storage,
    *,
    current: StoredEvent,
    event: EventIn,
    schedule: Schedule,
) -> StoredEvent:
    """Replace ``current`` with ``event``; ``PreconditionFailed`` if it changed meanwhile."""
    new_document = orjson.loads(_document(event))
    bump = 1 if schedule_changed(current.document, new_document) else 0
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
                    sequence=events.c.sequence + bump,
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
            await _store_derived(
                storage, event_id=current.id, event=event, schedule=schedule, replace=True
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("an event with this slug already exists") from None
        raise
    return record_from_row(row)


async def delete_event(storage: Storage, *, current: StoredEvent) -> StoredEvent:
    """Turn the event into a tombstone: kept for feeds and sync, gone from listings."""
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
    return record_from_row(row)


async def insert_many(
    storage: Storage, *, rows: Sequence[tuple[EventIn, Schedule, str, str]]
) -> None:
    """Store many new events at once (bulk loads): rows of ``(event, schedule, uid, slug)``."""
    stamp = now_us()
    async with storage.transaction():
        for event, schedule, uid, slug in rows:
            row = await storage.fetch_one(
                events.insert()
                .values(
                    uid=uid,
                    slug=slug,
                    sequence=0,
                    version=1,
                    created_us=stamp,
                    updated_us=stamp,
                    published_us=stamp if event.state == "published" else None,
                    deleted_us=None,
                    **_values(event, schedule),
                )
                .returning(events.c.id)
            )
            assert row is not None
            await _store_derived(
                storage, event_id=row["id"], event=event, schedule=schedule, replace=False
            )


# --- reads ------------------------------------------------------------------------------------


async def get_event(storage: Storage, *, key: str, for_update: bool = False) -> StoredEvent | None:
    """The event whose id (all digits) or slug is ``key``, tombstones included.

    ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite writers are
    already one at a time), so a read-modify-write cannot lose a concurrent change.
    """
    condition = events.c.id == int(key) if key.isdigit() and len(key) < 10 else events.c.slug == key
    query = sa.select(events).where(condition)
    row = await storage.fetch_one(query.with_for_update() if for_update else query)
    return record_from_row(row) if row is not None else None


async def count_events(storage: Storage) -> int:
    return int(await storage.fetch_val(sa.select(sa.func.count()).select_from(events)))


async def all_events(storage: Storage) -> list[StoredEvent]:
    """Every event that is not deleted, oldest first (for export)."""
    rows = await storage.fetch_all(
        sa.select(events).where(events.c.deleted_us.is_(None)).order_by(events.c.id)
    )
    return [record_from_row(r) for r in rows]
