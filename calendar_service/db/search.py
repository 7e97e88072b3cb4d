"""Full-text search over events, and the columns the agenda filters on.

The text of every language is folded (lower case, no accents: "Événement" finds "evenement")
into five columns, from the most to the least telling: titles, summaries, places, people
(organiser and partners), descriptions and tags. SQLite searches them with FTS5 (BM25 ranking,
titles weighing most), PostgreSQL with a generated ``tsvector`` (``ts_rank``, weights A to D);
both match each word of the query as a prefix ("perma" finds "permanence"), all words needed.
``SearchMatch`` is the WHERE clause of a search, written for the database it runs on; the API,
the editors' list and the public agenda all use it (``listings.filter_conditions``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement

from calendar_service.db.connection import Storage
from calendar_service.db.tables import events
from calendar_service.models import EventIn, stored_event

# A query keeps its first words only, each cut to a length: enough to find, too little to abuse.
MAX_WORDS = 8
MAX_WORD = 40
# BM25 weights of the FTS5 columns, in order (title ... description).
SQLITE_WEIGHTS = "10.0, 4.0, 2.5, 2.5, 1.0"
_WORD = re.compile(r"[^\W_]+")
# What a price says when coming costs nothing (or what one wishes): "Gratuit", "Entrée libre".
_FREE = re.compile(
    r"\b(gratuit|gratuite|free|entree libre|prix libre|participation libre|sans frais|"
    r"libre participation|free entry|pay what you)\b"
)


def fold(text: str) -> str:
    """Lower-case, accent-free text for searching ("Événement" matches "evenement")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(query: str) -> list[str]:
    """The words of a search, folded as the index is: letters and digits only."""
    return [w[:MAX_WORD] for w in _WORD.findall(fold(query))][:MAX_WORDS]


def _folded(*texts: str | None) -> str:
    return fold(" ".join(t for t in texts if t))


def search_values(event: EventIn) -> dict[str, Any]:
    """The derived columns of an event: its searchable text and its filter flags."""
    location = event.location
    places = (
        [location.name, location.address, location.postal_code, location.city] if location else []
    )
    people = [event.organizer.name] if event.organizer else []
    people.extend(p.name for p in event.partners)
    prices = " ".join(event.price.values())
    return {
        "search_title": _folded(*event.title.values()),
        "search_summary": _folded(*event.summary.values()),
        "search_places": _folded(*places),
        "search_people": _folded(*people),
        "search_body": _folded(*event.description.values(), *event.tags),
        "city_key": fold(location.city).strip()[:120] if location and location.city else None,
        "online": event.attendance_mode in ("online", "mixed"),
        "free": bool(_FREE.search(fold(prices))),
        "accessible": bool(event.accessibility and event.accessibility.features),
    }


class SearchMatch(ColumnElement[bool]):
    """``events`` rows whose text holds every word of a search (as prefixes)."""

    inherit_cache = False
    # Not ``Boolean``: SQLite (no native booleans) would compare it to 1 in a WHERE, and
    # ``events.id IN (…) = 1`` is no longer a lookup of the FTS rowids but a scan of events.
    type = sa.types.NullType()  # type: ignore[assignment]

    def __init__(self, found: Sequence[str]) -> None:
        self.words = list(found)


@compiles(SearchMatch, "sqlite")
def _sqlite_match(element: SearchMatch, compiler: SQLCompiler, **kw: Any) -> str:
    query = compiler.process(sa.bindparam(None, fts5_query(element.words)), **kw)
    return f"events.id IN (SELECT rowid FROM event_search WHERE event_search MATCH {query})"


@compiles(SearchMatch, "postgresql")
def _postgresql_match(element: SearchMatch, compiler: SQLCompiler, **kw: Any) -> str:
    query = compiler.process(sa.bindparam(None, ts_query(element.words)), **kw)
    return f"events.search_vector @@ to_tsquery('simple', {query})"


def fts5_query(found: Sequence[str]) -> str:
    """Every word as a quoted prefix: ``"perma"* "juri"*`` (FTS5 ANDs them)."""
    return " ".join(f'"{w}"*' for w in found)


def ts_query(found: Sequence[str]) -> str:
    """Every word as a prefix: ``perma:* & juri:*`` (the words are letters and digits only)."""
    return " & ".join(f"{w}:*" for w in found)


def ranked_ids(storage: Storage, found: Sequence[str]) -> sa.Subquery:
    """The ids of the events matching ``found`` with their rank (smaller is better)."""
    if storage.kind == "sqlite":
        return (
            sa.select(
                sa.literal_column("rowid").label("id"),
                sa.literal_column(f"bm25(event_search, {SQLITE_WEIGHTS})").label("rank"),
            )
            .select_from(sa.table("event_search"))
            .where(sa.literal_column("event_search").op("MATCH")(fts5_query(found)))
            .subquery("hits")
        )
    query = sa.func.to_tsquery(sa.literal_column("'simple'"), ts_query(found))
    vector: sa.ColumnElement[Any] = sa.literal_column("events.search_vector")
    return (
        sa.select(events.c.id, (-sa.func.ts_rank(vector, query)).label("rank"))
        .where(vector.op("@@")(query))
        .subquery("hits")
    )


async def fill_missing(storage: Storage, *, batch: int = 500) -> int:
    """Fill the search and filter columns of events stored before they existed; how many."""
    done = 0
    while True:
        rows = await storage.fetch_all(
            sa.select(events.c.id, events.c.document, events.c.state)
            .where(events.c.search_title.is_(None))
            .order_by(events.c.id)
            .limit(batch)
        )
        if not rows:
            return done
        for row in rows:
            try:
                values = search_values(stored_event(orjson.loads(row["document"]), row["state"]))
            except ValueError:
                values = {"search_title": ""}  # a row no longer readable is left unsearchable
            await storage.execute(events.update().where(events.c.id == row["id"]).values(values))
        done += len(rows)
