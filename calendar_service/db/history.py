"""Each event's history: who changed what, and when, written beside every change of an event.

``actor`` names who acted: a user's e-mail, ``token:<name>`` for the API, ``proposal`` for the
public form, ``import:<feed>`` for imports. ``changes`` lists the fields that changed, as dotted
paths ("title.en", "location.city"), never their values, so the history holds no hostile text
beyond field names we chose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from calendar_service.db.connection import Storage
from calendar_service.db.events import StoredEvent, now_us
from calendar_service.db.tables import event_history

# Sub-documents whose own fields are named in the history; other values count as one field.
_NESTED = {
    "title",
    "summary",
    "description",
    "price",
    "location",
    "organizer",
    "image",
    "accessibility",
    "audience",
    "recurrence",
}


@dataclass(frozen=True)
class Entry:
    at_us: int
    actor: str
    action: str
    changes: list[str]


def snapshot(event: StoredEvent | None) -> dict[str, Any] | None:
    """What the history compares: the event's document with its state."""
    if event is None:
        return None
    return {**event.document, "state": event.state, "slug": event.slug}


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """The dotted names of the fields that differ between two documents, in a stable order."""
    before, after = before or {}, after or {}
    changed: list[str] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in _NESTED and isinstance(old or {}, dict) and isinstance(new or {}, dict):
            inner = sorted(
                k
                for k in set(old or {}) | set(new or {})
                if (old or {}).get(k) != (new or {}).get(k)
            )
            changed.extend(f"{key}.{k}" for k in inner)
        else:
            changed.append(key)
    return changed


@dataclass(frozen=True)
class Change:
    """One change to write in the history: the event, what happened, and its snapshots."""

    event_id: int
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def _row(change: Change, *, actor: str, at_us: int) -> dict[str, Any]:
    return {
        "event_id": change.event_id,
        "at_us": at_us,
        "actor": actor[:300],
        "action": change.action[:40],
        "changes": orjson.dumps(changed_fields(change.before, change.after)).decode(),
    }


async def record(
    storage: Storage,
    *,
    event_id: int,
    actor: str,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add a line to ``event_id``'s history (call it inside the write's transaction)."""
    await record_many(
        storage, actor=actor, changes=[Change(event_id, action, before=before, after=after)]
    )


async def record_many(storage: Storage, *, actor: str, changes: Iterable[Change]) -> None:
    """Add one line per change, all by ``actor`` (an import's events), in one insert."""
    at_us = now_us()
    rows = [_row(change, actor=actor, at_us=at_us) for change in changes]
    if rows:
        await storage.insert_rows(event_history, rows)


async def for_event(storage: Storage, *, event_id: int, limit: int = 200) -> list[Entry]:
    """``event_id``'s history, newest first."""
    rows = await storage.fetch_all(
        sa.select(event_history)
        .where(event_history.c.event_id == event_id)
        .order_by(event_history.c.at_us.desc(), event_history.c.id.desc())
        .limit(limit)
    )
    return [
        Entry(
            at_us=row["at_us"],
            actor=row["actor"],
            action=row["action"],
            changes=orjson.loads(row["changes"]),
        )
        for row in rows
    ]
