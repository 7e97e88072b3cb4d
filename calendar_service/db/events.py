"""Event queries: every read and write of events, returning ``StoredEvent`` records.

Each write is one function, in one transaction, that also stores what is derived from the event
(its occurrences, tags and search text), so a reader never sees an event without them.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import sqlalchemy as sa

from calendar_service.dates import utc_now
from calendar_service.db.connection import Storage, is_unique_violation
from calendar_service.db.tables import event_tags, events, occurrences
from calendar_service.errors import BadRequest, Conflict, PreconditionFailed
from calendar_service.models import EventIn
from calendar_service.schedule import SHORT_SPAN, OccurrenceTimes, Schedule, occurrences_after
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


@dataclass(frozen=True)
class StoredOccurrence:
    event: StoredEvent
    start_ts: int
    end_ts: int


@dataclass
class EventFilter:
    """What a listing asks for; every part narrows it."""

    from_ts: int | None = None
    to_ts: int | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=lambda: ["published"])
    q: str = ""
    updated_since_us: int | None = None


def now_us() -> int:
    """Now as epoch microseconds, the unit of every stored timestamp."""
    return int(utc_now().timestamp() * 1_000_000)


def _record(row: Any) -> StoredEvent:
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
        "spanning": schedule.spanning,
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
    stored = _record(row)
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
    return _record(row)


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
    return _record(row)


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
    return _record(row) if row is not None else None


async def count_events(storage: Storage) -> int:
    return int(await storage.fetch_val(sa.select(sa.func.count()).select_from(events)))


async def all_events(storage: Storage) -> list[StoredEvent]:
    """Every event that is not deleted, oldest first (for export)."""
    rows = await storage.fetch_all(
        sa.select(events).where(events.c.deleted_us.is_(None)).order_by(events.c.id)
    )
    return [_record(r) for r in rows]


def encode_cursor(kind: str, key: int, event_id: int) -> str:
    raw = f"{kind}:{key}:{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, key, event_id = raw.split(":")
        if found != kind or abs(int(key)) >= 2**62 or not 0 <= int(event_id) < 2**31:
            raise ValueError(kind)
        return int(key), int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        message = "cursor is not one this listing gave out; start again without it"
        raise BadRequest(message, errors=[{"field": "cursor", "message": message}]) from None


def _conditions(flt: EventFilter, *, deleted: bool) -> list[Any]:
    where: list[Any] = []
    if not deleted:
        where.append(events.c.deleted_us.is_(None))
    if flt.states:
        where.append(events.c.state.in_(flt.states))
    if flt.categories:
        where.append(events.c.category.in_(flt.categories))
    if flt.statuses:
        where.append(events.c.status.in_(flt.statuses))
    if flt.tags:
        where.append(
            sa.exists().where(event_tags.c.event_id == events.c.id, event_tags.c.tag.in_(flt.tags))
        )
    for term in fold(flt.q).split():
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(events.c.search_text.like(f"%{escaped}%", escape="\\"))
    if flt.updated_since_us is not None:
        where.append(events.c.updated_us >= flt.updated_since_us)
    return where


def _after(key_col: Any, id_col: Any, cursor: tuple[int, int] | None) -> list[Any]:
    if cursor is None:
        return []
    key, event_id = cursor
    return [sa.or_(key_col > key, sa.and_(key_col == key, id_col > event_id))]


async def list_events(
    storage: Storage, *, flt: EventFilter, limit: int, cursor: str | None
) -> tuple[list[StoredEvent], str | None]:
    """One page of events (series), with the cursor of the next page (``None`` at the end).

    Ordered by start, or by last change when ``updated_since`` is given (tombstones included).
    Each query is bounded by an index range, so a page costs what the page holds.
    """
    if flt.updated_since_us is not None:
        after = decode_cursor(cursor, "u") if cursor else None
        rows = await storage.fetch_all(
            sa.select(events)
            .where(
                *_conditions(flt, deleted=True), *_after(events.c.updated_us, events.c.id, after)
            )
            .order_by(events.c.updated_us, events.c.id)
            .limit(limit + 1)
        )
        records = [_record(r) for r in rows]
        more = len(records) > limit
        records = records[:limit]
        last = records[-1] if records else None
        return records, encode_cursor("u", last.updated_us, last.id) if more and last else None

    after = decode_cursor(cursor, "s") if cursor else None
    base = [*_conditions(flt, deleted=False), *_after(events.c.start_ts, events.c.id, after)]
    order = (events.c.start_ts, events.c.id)
    if flt.from_ts is None and flt.to_ts is None:
        queries = [sa.select(events).where(*base)]
    else:
        lo = flt.from_ts if flt.from_ts is not None else -(2**62)
        hi = flt.to_ts if flt.to_ts is not None else 2**62
        overlap = sa.or_(events.c.last_end_ts > lo, events.c.start_ts >= lo)
        short = sa.select(events).where(
            *base,
            events.c.spanning.is_(False),
            events.c.start_ts >= lo - SHORT_SPAN,
            events.c.start_ts < hi,
            overlap,
        )
        has_occurrence = sa.exists().where(
            occurrences.c.event_id == events.c.id,
            occurrences.c.start_ts < hi,
            sa.or_(occurrences.c.end_ts > lo, occurrences.c.start_ts >= lo),
        )
        spanning = sa.select(events).where(
            *base,
            events.c.spanning.is_(True),
            events.c.last_end_ts > lo,
            events.c.start_ts < hi,
            sa.or_(has_occurrence, events.c.expanded_until_ts < hi),
        )
        queries = [short, spanning]
    found: list[StoredEvent] = []
    for query in queries:
        rows = await storage.fetch_all(query.order_by(*order).limit(limit + 1))
        found.extend(_record(r) for r in rows)
    found.sort(key=lambda e: (e.start_ts, e.id))
    page = found[:limit]
    more = len(found) > limit
    last = page[-1] if page else None
    return page, encode_cursor("s", last.start_ts, last.id) if more and last else None


async def list_occurrences(
    storage: Storage,
    *,
    flt: EventFilter,
    from_ts: int,
    to_ts: int,
    limit: int,
    cursor: str | None,
    cap: int,
) -> tuple[list[StoredOccurrence], str | None]:
    """One page of occurrences overlapping ``[from_ts, to_ts)``, by start then event id.

    Stored occurrences come from two index ranges (short ones by start, long ones by end);
    open-ended rules whose stored occurrences stop before ``to_ts`` are expanded here.
    """
    after = decode_cursor(cursor, "o") if cursor else None
    base = [
        occurrences.c.event_id == events.c.id,
        *_conditions(flt, deleted=False),
        *_after(occurrences.c.start_ts, occurrences.c.event_id, after),
        occurrences.c.start_ts < to_ts,
        sa.or_(occurrences.c.end_ts > from_ts, occurrences.c.start_ts >= from_ts),
    ]
    columns = [
        *events.c,
        occurrences.c.start_ts.label("o_start"),
        occurrences.c.end_ts.label("o_end"),
    ]
    short = sa.select(*columns).where(
        *base, occurrences.c.long.is_(False), occurrences.c.start_ts >= from_ts - SHORT_SPAN
    )
    long = sa.select(*columns).where(*base, occurrences.c.long.is_(True))
    found: list[StoredOccurrence] = []
    for query in (short, long):
        rows = await storage.fetch_all(
            query.order_by(occurrences.c.start_ts, occurrences.c.event_id).limit(limit + 1)
        )
        found.extend(StoredOccurrence(_record(r), r["o_start"], r["o_end"]) for r in rows)
    unexpanded = await storage.fetch_all(
        sa.select(events).where(
            *_conditions(flt, deleted=False),
            events.c.expanded_until_ts.is_not(None),
            events.c.expanded_until_ts < to_ts,
        )
    )
    for row in unexpanded:
        record = _record(row)
        extra: Iterable[OccurrenceTimes] = occurrences_after(
            EventIn.model_validate(record.document | {"state": record.state}),
            after_ts=row["expanded_until_ts"],
            window_start=from_ts,
            window_end=to_ts,
            cap=cap,
        )
        for occ in extra:
            if after is None or (occ.start, record.id) > after:
                found.append(StoredOccurrence(record, occ.start, occ.end))
    found.sort(key=lambda o: (o.start_ts, o.event.id))
    page = found[:limit]
    more = len(found) > limit
    last = page[-1] if page else None
    return page, encode_cursor("o", last.start_ts, last.event.id) if more and last else None
