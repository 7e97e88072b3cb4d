"""Full-text search and the agenda's filters.

Each event keeps its searchable text folded (lower case, no accents; every language at once) in
five columns weighted from title to description, and four filter columns: the folded city, and
whether it is online, free and accessible. SQLite indexes the text with FTS5 (an external-content
table kept in step by triggers); PostgreSQL with a generated ``tsvector`` column and a GIN index.
The columns of the events stored before this revision are filled by ``calendar-service migrate``
(``db.search.fill_missing``), which the service runs as it starts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TEXT_COLUMNS = ("search_title", "search_summary", "search_places", "search_people", "search_body")
FLAG_COLUMNS = ("online", "free", "accessible")
FTS_COLUMNS = ", ".join(TEXT_COLUMNS)
OLD_VALUES = ", ".join(f"old.{c}" for c in TEXT_COLUMNS)
NEW_VALUES = ", ".join(f"new.{c}" for c in TEXT_COLUMNS)


def upgrade() -> None:
    for name in TEXT_COLUMNS:
        op.add_column("events", sa.Column(name, sa.Text, nullable=True))
    op.add_column("events", sa.Column("city_key", sa.String(120), nullable=True))
    for name in FLAG_COLUMNS:
        op.add_column("events", sa.Column(name, sa.Boolean, nullable=True))
    op.create_index("ix_events_city_key", "events", ["city_key"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE event_search USING fts5({FTS_COLUMNS}, content='events', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN "
            f"INSERT INTO event_search(rowid, {FTS_COLUMNS}) VALUES (new.id, {NEW_VALUES}); END"
        )
        op.execute(
            "CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN "
            f"INSERT INTO event_search(event_search, rowid, {FTS_COLUMNS}) "
            f"VALUES ('delete', old.id, {OLD_VALUES}); END"
        )
        op.execute(
            f"CREATE TRIGGER events_search_update AFTER UPDATE OF {FTS_COLUMNS} ON events BEGIN "
            f"INSERT INTO event_search(event_search, rowid, {FTS_COLUMNS}) "
            f"VALUES ('delete', old.id, {OLD_VALUES}); "
            f"INSERT INTO event_search(rowid, {FTS_COLUMNS}) VALUES (new.id, {NEW_VALUES}); END"
        )
    else:
        weighted = " || ".join(
            f"setweight(to_tsvector('simple', coalesce({column}, '')), '{weight}')"
            for column, weight in (
                ("search_title", "A"),
                ("search_summary", "B"),
                ("search_places", "C"),
                ("search_people", "C"),
                ("search_body", "D"),
            )
        )
        op.execute(
            f"ALTER TABLE events ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({weighted}) STORED"
        )
        op.execute("CREATE INDEX ix_events_search_vector ON events USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER events_search_{trigger}")
        op.execute("DROP TABLE event_search")
    else:
        op.execute("DROP INDEX ix_events_search_vector")
        op.execute("ALTER TABLE events DROP COLUMN search_vector")
    op.drop_index("ix_events_city_key", "events")
    for name in (*TEXT_COLUMNS, "city_key", *FLAG_COLUMNS):
        op.drop_column("events", name)
