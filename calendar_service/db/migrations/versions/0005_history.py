"""Each event's history (who changed what, when), and the editors' decisions on proposals.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_event_history_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event_history"),
    )
    op.create_index("ix_event_history_event_id_at_us", "event_history", ["event_id", "at_us"])
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("decision", sa.String(16), nullable=True))
        batch.add_column(sa.Column("decided_us", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(254), nullable=True))
        batch.add_column(sa.Column("reply", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("reply")
        batch.drop_column("decided_by")
        batch.drop_column("decided_us")
        batch.drop_column("decision")
    op.drop_index("ix_event_history_event_id_at_us", table_name="event_history")
    op.drop_table("event_history")
