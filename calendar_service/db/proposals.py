"""Proposals from the public: who proposed a pending event, and the per-address rate log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from calendar_service.db.connection import Storage
from calendar_service.db.events import now_us
from calendar_service.db.tables import proposal_log, proposals

HOUR_US = 3_600 * 1_000_000


async def recent_proposals(
    storage: Storage, *, address: str, since_us: int
) -> tuple[int, int | None]:
    """How many proposals ``address`` sent since ``since_us``, and when the oldest was."""
    row = await storage.fetch_one(
        sa.select(
            sa.func.count().label("n"), sa.func.min(proposal_log.c.at_us).label("first")
        ).where(proposal_log.c.address == address, proposal_log.c.at_us >= since_us)
    )
    assert row is not None
    return int(row["n"]), row["first"]


async def record_proposal(
    storage: Storage, *, event_id: int, address: str, proposer: dict[str, Any]
) -> None:
    """Keep who proposed ``event_id`` and count the proposal against ``address``; forget the
    log entries older than an hour."""
    now = now_us()
    async with storage.transaction():
        await storage.execute(proposal_log.delete().where(proposal_log.c.at_us < now - HOUR_US))
        await storage.insert_rows(proposal_log, [{"address": address, "at_us": now}])
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
                }
            ],
        )


async def get_proposal(storage: Storage, *, event_id: int) -> dict[str, Any] | None:
    """Who proposed ``event_id`` (for editors), or ``None`` when no one did."""
    row = await storage.fetch_one(sa.select(proposals).where(proposals.c.event_id == event_id))
    return dict(row) if row is not None else None


async def count_proposals(storage: Storage) -> tuple[int, int]:
    """The rows of the proposals table and of the rate log (for tests and checks)."""
    kept = await storage.fetch_val(sa.select(sa.func.count()).select_from(proposals))
    logged = await storage.fetch_val(sa.select(sa.func.count()).select_from(proposal_log))
    return int(kept), int(logged)
