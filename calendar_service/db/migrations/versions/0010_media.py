"""Media: uploaded pictures, stored once per content (the id is the upload's SHA-256), with the
files made from them (a clean master and its variants), in the database so that every process
serves the same. ``events.media_id`` names the picture an event shows, so that ``media prune``
finds the unused ones without reading every document.

``events.media_id`` is added in place (``ALTER TABLE … ADD COLUMN``), not through a batch copy
of the table, which on SQLite would lose the triggers of the full-text index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("source_type", sa.String(40), nullable=False),
        sa.Column("source_bytes", sa.Integer, nullable=False),
        sa.Column("source_url", sa.Text, nullable=True),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("has_alpha", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_media"),
    )
    op.create_index("ix_media_created_us", "media", ["created_us"])
    op.create_table(
        "media_files",
        sa.Column("media_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name="fk_media_files_media_id_media", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("media_id", "name", name="pk_media_files"),
    )
    op.add_column("events", sa.Column("media_id", sa.String(32), nullable=True))
    op.create_index("ix_events_media_id", "events", ["media_id"])


def downgrade() -> None:
    op.drop_index("ix_events_media_id", "events")
    op.execute("ALTER TABLE events DROP COLUMN media_id")
    op.drop_table("media_files")
    op.drop_index("ix_media_created_us", "media")
    op.drop_table("media")
