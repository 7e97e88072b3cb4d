"""Stored VEVENTs per language, the columns feeds filter on, and the content version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_ical",
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("vevent", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_event_ical_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "lang", name="pk_event_ical"),
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True))
        batch.add_column(sa.Column("organizer", sa.String(200), nullable=True))
        batch.add_column(sa.Column("render_key", sa.String(32), nullable=True))
    # Fill the new columns from each event's document; VEVENTs are rendered by
    # `calendar-service migrate`, which renders every event whose render_key is stale.
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("document", sa.Text),
        sa.column("timezone", sa.String),
        sa.column("organizer", sa.String),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(events.c.id, events.c.document)).fetchall():
        document = json.loads(row.document)
        organizer = (document.get("organizer") or {}).get("name")
        connection.execute(
            events.update()
            .where(events.c.id == row.id)
            .values(timezone=document["timezone"], organizer=organizer)
        )
    with op.batch_alter_table("events") as batch:
        batch.alter_column("timezone", existing_type=sa.String(64), nullable=False)
        batch.create_index("ix_events_organizer", ["organizer"])
    state = op.create_table(
        "service_state",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_service_state"),
    )
    op.bulk_insert(state, [{"key": "content_version", "value": 1}])


def downgrade() -> None:
    op.drop_table("service_state")
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_organizer")
        batch.drop_column("render_key")
        batch.drop_column("organizer")
        batch.drop_column("timezone")
    op.drop_table("event_ical")
