"""Events, their tags and occurrences, and API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(255), nullable=False),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("start_ts", sa.BigInteger, nullable=False),
        sa.Column("end_ts", sa.BigInteger, nullable=False),
        sa.Column("last_end_ts", sa.BigInteger, nullable=False),
        sa.Column("expanded_until_ts", sa.BigInteger, nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("published_us", sa.BigInteger, nullable=True),
        sa.Column("deleted_us", sa.BigInteger, nullable=True),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("uid", name="uq_events_uid"),
        sa.UniqueConstraint("slug", name="uq_events_slug"),
    )
    op.create_index("ix_events_start_ts_id", "events", ["start_ts", "id"])
    op.create_index("ix_events_updated_us_id", "events", ["updated_us", "id"])
    op.create_index("ix_events_last_end_ts", "events", ["last_end_ts"])
    op.create_index("ix_events_expanded_until_ts", "events", ["expanded_until_ts"])

    op.create_table(
        "event_tags",
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("tag", sa.String(50), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_event_tags_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "tag", name="pk_event_tags"),
    )
    op.create_index("ix_event_tags_tag_event_id", "event_tags", ["tag", "event_id"])

    op.create_table(
        "occurrences",
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("start_ts", sa.BigInteger, nullable=False),
        sa.Column("end_ts", sa.BigInteger, nullable=False),
        sa.Column("long", sa.Boolean, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_occurrences_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "start_ts", name="pk_occurrences"),
    )
    op.create_index("ix_occurrences_start_ts_event_id", "occurrences", ["start_ts", "event_id"])
    op.create_index(
        "ix_occurrences_long_end_ts",
        "occurrences",
        ["end_ts"],
        sqlite_where=sa.text("long = 1"),
        postgresql_where=sa.text("long = true"),
    )

    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("last_used_us", sa.BigInteger, nullable=True),
        sa.Column("revoked_us", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_tokens_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("occurrences")
    op.drop_table("event_tags")
    op.drop_table("events")
