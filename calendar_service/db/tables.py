"""SQLAlchemy Core tables: the schema the migrations create.

Instants are epoch seconds (UTC) and timestamps epoch microseconds, stored as integers: the
same comparison and index behaviour on SQLite and PostgreSQL. The event itself is stored as its
canonical JSON document beside the columns that queries filter and sort on.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uid", sa.String(255), nullable=False, unique=True),
    sa.Column("slug", sa.String(120), nullable=False, unique=True),
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
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("organizer", sa.String(200), nullable=True),
    # Which rendering made the stored VEVENTs (see render.ical.RenderContext.key).
    sa.Column("render_key", sa.String(32), nullable=True),
    # The uploaded picture the event shows (media.id), if any: ``media prune`` reads it.
    sa.Column("media_id", sa.String(32), nullable=True),
    # Searched and filtered by the agenda (db/search.py; the full-text index itself, an FTS5
    # table or a tsvector column, is the migration's, outside this metadata).
    sa.Column("search_title", sa.Text, nullable=True),
    sa.Column("search_summary", sa.Text, nullable=True),
    sa.Column("search_places", sa.Text, nullable=True),
    sa.Column("search_people", sa.Text, nullable=True),
    sa.Column("search_body", sa.Text, nullable=True),
    sa.Column("city_key", sa.String(120), nullable=True),
    sa.Column("online", sa.Boolean, nullable=True),
    sa.Column("free", sa.Boolean, nullable=True),
    sa.Column("accessible", sa.Boolean, nullable=True),
    sa.Index("ix_events_start_ts_id", "start_ts", "id"),
    sa.Index("ix_events_updated_us_id", "updated_us", "id"),
    sa.Index("ix_events_last_end_ts_id", "last_end_ts", "id"),
    # Partial: a whole index on state would steer SQLite's lists away from ``start_ts``.
    sa.Index(
        "ix_events_unpublished",
        "state",
        sqlite_where=sa.text("state <> 'published'"),
        postgresql_where=sa.text("state <> 'published'"),
    ),
    sa.Index("ix_events_media_id", "media_id"),
    sa.Index("ix_events_expanded_until_ts", "expanded_until_ts"),
    sa.Index("ix_events_organizer", "organizer"),
    sa.Index("ix_events_city_key", "city_key"),
)

event_tags = sa.Table(
    "event_tags",
    metadata,
    sa.Column(
        "event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("tag", sa.String(50), primary_key=True),
    sa.Index("ix_event_tags_tag_event_id", "tag", "event_id"),
)

occurrences = sa.Table(
    "occurrences",
    metadata,
    sa.Column(
        "event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("start_ts", sa.BigInteger, primary_key=True),
    sa.Column("end_ts", sa.BigInteger, nullable=False),
    sa.Column("long", sa.Boolean, nullable=False),
    sa.Index("ix_occurrences_start_ts_event_id", "start_ts", "event_id"),
    # Only long occurrences (weeks-long exhibitions) are found by their end; a partial index
    # keeps the planner from using it for the short ones.
    sa.Index(
        "ix_occurrences_long_end_ts",
        "end_ts",
        sqlite_where=sa.text("long = 1"),
        postgresql_where=sa.text("long = true"),
    ),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("last_used_us", sa.BigInteger, nullable=True),
    sa.Column("revoked_us", sa.BigInteger, nullable=True),
)

# The VEVENT of each event in each language, rendered when the event is written.
event_ical = sa.Table(
    "event_ical",
    metadata,
    sa.Column(
        "event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("lang", sa.String(8), primary_key=True),
    sa.Column("vevent", sa.Text, nullable=False),
)

# Small named counters; "content_version" changes with every write, and keys every cache.
service_state = sa.Table(
    "service_state",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

# People who sign in to the editor pages; e-mails are stored lower-cased.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("password_changed_us", sa.BigInteger, nullable=False),
    sa.Column("disabled_us", sa.BigInteger, nullable=True),
)

# Signed-in browsers: the id is the SHA-256 of the cookie's 256-bit token, never the token.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("last_seen_us", sa.BigInteger, nullable=False),
    sa.Column("expires_us", sa.BigInteger, nullable=False),
    sa.Column("csrf_secret", sa.String(64), nullable=False),
    sa.Column("user_agent", sa.String(200), nullable=True),
    sa.Index("ix_sessions_user_id", "user_id"),
    sa.Index("ix_sessions_expires_us", "expires_us"),
)

# Hits counted against a limit, keyed "account:<email>", "address:<ip>" (sign-ins) or
# "proposal:<ip>", over a sliding window (see db/limits.py).
limit_hits = sa.Table(
    "limit_hits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_limit_hits_key_at_us", "key", "at_us"),
)

# Who proposed a pending event (POST /api/proposals): for editors only, never published.
proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column(
        "event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("address", sa.String(100), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    # An editor's decision: "accepted" or "refused", when, by whom, and the word to the proposer.
    sa.Column("decision", sa.String(16), nullable=True),
    sa.Column("decided_us", sa.BigInteger, nullable=True),
    sa.Column("decided_by", sa.String(254), nullable=True),
    sa.Column("reply", sa.Text, nullable=True),
    # The language the proposer wrote in: the decision is written to them in it.
    sa.Column("lang", sa.String(8), nullable=True),
)

# Who changed what and when, per event: ``actor`` is a user's e-mail, "token:<name>",
# "proposal" or "import:<feed>"; ``changes`` is a JSON list of changed fields.
event_history = sa.Table(
    "event_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(300), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("changes", sa.Text, nullable=False),
    sa.Index("ix_event_history_event_id_at_us", "event_id", "at_us"),
)


# Uploaded pictures, one row per content (``id``: the first 32 hex digits of the upload's
# SHA-256), and the files made from each: its clean master and the variants every output uses.
media = sa.Table(
    "media",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("source_type", sa.String(40), nullable=False),
    sa.Column("source_bytes", sa.Integer, nullable=False),
    sa.Column("source_url", sa.Text, nullable=True),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("has_alpha", sa.Boolean, nullable=False),
    sa.Index("ix_media_created_us", "created_us"),
)

media_files = sa.Table(
    "media_files",
    metadata,
    sa.Column(
        "media_id", sa.String(32), sa.ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("content_type", sa.String(40), nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
