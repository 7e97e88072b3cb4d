"""Proposals from the public: who proposed a pending event, the per-address rate log, and the
editors' decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from calendar_service.db.connection import Storage
from calendar_service.db.events import StoredEvent, now_us, record_from_row
from calendar_service.db.tables import events, limit_hits, proposals

HOUR_US = 3_600 * 1_000_000
# The proposals' columns a ``Proposal`` carries besides its event.
PROPOSAL_COLUMNS = (
    "name",
    "email",
    "message",
    "created_us",
    "decision",
    "decided_us",
    "decided_by",
    "reply",
    "lang",
)


async def record_proposal(
    storage: Storage,
    *,
    event_id: int,
    address: str,
    proposer: dict[str, Any],
    lang: str | None = None,
) -> None:
    """Keep who proposed ``event_id`` (``address`` is the client's)."""
    now = now_us()
    async with storage.transaction():
        await storage.insert_rows(
            proposals,
            [
                {
                    "event_id": event_id,
                    "name": proposer.get("name"),
                    "email": proposer.get("email"),
                    "message": proposer.get("message"),
                    "address": address,
                    "created_us": now,
                    "lang": lang,
                }
            ],
        )


async def get_proposal(storage: Storage, *, event_id: int) -> dict[str, Any] | None:
    """Who proposed ``event_id`` (for editors), or ``None`` when no one did."""
    row = await storage.fetch_one(sa.select(proposals).where(proposals.c.event_id == event_id))
    return dict(row) if row is not None else None


async def count_proposals(storage: Storage) -> tuple[int, int]:
    """The rows of the proposals table and the proposals counted against the limit (for tests
    and checks)."""
    kept = await storage.fetch_val(sa.select(sa.func.count()).select_from(proposals))
    logged = await storage.fetch_val(
        sa.select(sa.func.count()).where(limit_hits.c.key.like("proposal:%"))
    )
    return int(kept), int(logged)


@dataclass(frozen=True)
class Proposal:
    """A proposed event with who proposed it and, once decided, the editor's decision."""

    event: StoredEvent
    name: str | None
    email: str | None
    message: str | None
    created_us: int
    decision: str | None
    decided_us: int | None
    decided_by: str | None
    reply: str | None
    lang: str | None


def _proposal(row: Mapping[str, Any]) -> Proposal:
    return Proposal(event=record_from_row(row), **{k: row[f"p_{k}"] for k in PROPOSAL_COLUMNS})


def _with_event() -> sa.Select[Any]:
    columns = [proposals.c[name].label(f"p_{name}") for name in PROPOSAL_COLUMNS]
    return sa.select(events, *columns).join(events, events.c.id == proposals.c.event_id)


async def pending_proposals(storage: Storage, *, limit: int = 200) -> list[Proposal]:
    """The proposals waiting for an editor (the event still pending), oldest first."""
    query = (
        _with_event()
        .where(
            events.c.state == "pending",
            events.c.deleted_us.is_(None),
            proposals.c.decision.is_(None),
        )
        .order_by(proposals.c.created_us, proposals.c.event_id)
        .limit(limit)
    )
    return [_proposal(row) for row in await storage.fetch_all(query)]


async def decided_proposals(storage: Storage, *, limit: int = 20) -> list[Proposal]:
    """The last ``limit`` proposals an editor accepted or refused, latest first."""
    query = (
        _with_event()
        .where(proposals.c.decision.is_not(None))
        .order_by(proposals.c.decided_us.desc(), proposals.c.event_id.desc())
        .limit(limit)
    )
    return [_proposal(row) for row in await storage.fetch_all(query)]


async def record_decision(
    storage: Storage, *, event_id: int, decision: str, by: str, reply: str | None = None
) -> None:
    """Write an editor's ``decision`` ("accepted" or "refused") on the proposal of
    ``event_id``, with the word sent to the proposer."""
    await storage.execute(
        proposals.update()
        .where(proposals.c.event_id == event_id)
        .values(decision=decision, decided_us=now_us(), decided_by=by, reply=reply)
    )
