"""The events' former search column, ``search_text``, goes: since 0008 the full-text index
(FTS5 on SQLite, a ``tsvector`` on PostgreSQL) serves every search, and nothing reads it. The
index on ``last_end_ts`` takes the id too, for the archive's pages (latest to end first), and
the editors' drafts and proposals are found by a partial index on ``state``.

SQLite drops it in place (``ALTER TABLE … DROP COLUMN``, SQLite 3.35 and later) rather than
through a batch copy of the table, which would lose the triggers that keep ``event_search`` in
step.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNPUBLISHED = "state <> 'published'"  # the same words in db/tables.py and db/worklist.py


def upgrade() -> None:
    op.execute("ALTER TABLE events DROP COLUMN search_text")
    # The archive pages by last date, latest first: (last_end_ts, id) serves it as a keyset.
    op.create_index("ix_events_last_end_ts_id", "events", ["last_end_ts", "id"])
    op.drop_index("ix_events_last_end_ts", "events")
    # The editors' drafts and proposals (a few percent of the events) are read by their state.
    # A partial index: a whole one would draw SQLite (without statistics) away from the order of
    # ``start_ts`` in every list filtered on the published state.
    op.create_index(
        "ix_events_unpublished",
        "events",
        ["state"],
        sqlite_where=sa.text(UNPUBLISHED),
        postgresql_where=sa.text(UNPUBLISHED),
    )


def downgrade() -> None:
    op.drop_index("ix_events_unpublished", "events")
    op.create_index("ix_events_last_end_ts", "events", ["last_end_ts"])
    op.drop_index("ix_events_last_end_ts_id", "events")
    op.execute("ALTER TABLE events ADD COLUMN search_text TEXT NOT NULL DEFAULT ''")
    op.execute(
        "UPDATE events SET search_text = trim(coalesce(search_title, '') || ' ' || "
        "coalesce(search_summary, '') || ' ' || coalesce(search_places, '') || ' ' || "
        "coalesce(search_people, '') || ' ' || coalesce(search_body, ''))"
    )
