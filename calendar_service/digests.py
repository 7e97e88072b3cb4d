"""Newsletter digests and blocks from the store: which events, at which dates, in which order;
each event's block rendered once per event version, language, format and dates.

Used by the HTTP handlers (``web/public/newsletter.py``, ``web/public/syndication.py``) and by
``calendar-service newsletter``, so both give the same bytes.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from calendar_service import metrics
from calendar_service.cache import text_size
from calendar_service.dates import epoch, from_epoch, zone
from calendar_service.db.connection import Storage
from calendar_service.db.events import StoredEvent
from calendar_service.db.listings import EventFilter, list_events, list_occurrences
from calendar_service.errors import BadRequest
from calendar_service.models import stored_event
from calendar_service.phrases import MAX_LISTED_DATES
from calendar_service.render.jsonapi import event_json
from calendar_service.render.newsletter import (
    Format,
    NewsletterTemplates,
    digest_view,
    event_view,
    group_label,
)
from calendar_service.render.syndication import SyndicationItem, short_description
from calendar_service.resilience import render_each
from calendar_service.schedule import occurrences_between, schedule_of
from calendar_service.settings import Settings

Grouping = Literal["day", "category"]
GROUPINGS: tuple[Grouping, ...] = ("day", "category")
# A digest of more occurrences than this is not a newsletter section any more.
MAX_DIGEST_OCCURRENCES = 2_000
PAGE = 500
# A single event's block lists its dates over this many days ahead.
BLOCK_DAYS = 92


@dataclass(frozen=True)
class Entry:
    """One event in a digest or a syndication feed, with its occurrences there."""

    event: StoredEvent
    times: tuple[tuple[int, int], ...]
    more_until_ts: int | None = None


class BlockCache:
    """Rendered blocks, by event version, language, format, heading level and dates: a write
    gives the event a new version, so its stale blocks are never read again (and age out,
    least recently used first, within a budget in bytes). Digests and feeds render their blocks
    in worker threads: the dictionary is read and written under a lock."""

    def __init__(self, budget_bytes: int = 16_000_000) -> None:
        self.budget_bytes = budget_bytes
        self.bytes = 0
        self._blocks: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def block(
        self,
        templates: NewsletterTemplates,
        entry: Entry,
        *,
        lang: str,
        fmt: Format,
        heading: int,
        with_description: bool = False,
    ) -> str:
        event = entry.event
        key = (
            event.id,
            event.version,
            lang,
            fmt,
            heading,
            with_description,
            entry.times,
            entry.more_until_ts,
        )
        with self._lock:
            found = self._blocks.get(key)
            if found is not None:
                self._blocks.move_to_end(key)
                self.hits += 1
        if found is not None:
            metrics.cache_hit("blocks")
            return found
        self.misses += 1
        metrics.cache_miss("blocks")
        view = event_view(
            event,
            entry.times,
            lang=lang,
            brand=templates.brand,
            with_description=with_description,
            more_until_ts=entry.more_until_ts,
        )
        text = templates.block(view, fmt, heading=heading)
        with self._lock:
            if key not in self._blocks:
                self._blocks[key] = text
                self.bytes += text_size(text)
            while self.bytes > self.budget_bytes and self._blocks:
                _, dropped = self._blocks.popitem(last=False)
                self.bytes -= text_size(dropped)
        return text


def day_bounds(first: date, last: date, tz_name: str) -> tuple[int, int]:
    """Epoch seconds from the start of ``first`` to the end of ``last`` in ``tz_name``."""
    tz = zone(tz_name)
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    return epoch(start), epoch(end)


async def entries_in_window(
    storage: Storage, *, flt: EventFilter, from_ts: int, to_ts: int, cap: int
) -> list[Entry]:
    """The events with occurrences in ``[from_ts, to_ts)``, by first occurrence, each with
    all its occurrences there. 400 past ``MAX_DIGEST_OCCURRENCES``."""
    flt = EventFilter(**{**flt.__dict__, "from_ts": None, "to_ts": None})
    found: dict[int, tuple[StoredEvent, list[tuple[int, int]]]] = {}
    cursor: str | None = None
    seen = 0
    while True:
        page, cursor = await list_occurrences(
            storage, flt=flt, from_ts=from_ts, to_ts=to_ts, limit=PAGE, cursor=cursor, cap=cap
        )
        for occurrence in page:
            _, times = found.setdefault(occurrence.event.id, (occurrence.event, []))
            times.append((occurrence.start_ts, occurrence.end_ts))
        seen += len(page)
        if seen > MAX_DIGEST_OCCURRENCES:
            message = (
                f"this window holds more than {MAX_DIGEST_OCCURRENCES} occurrences; "
                "choose a shorter window or a narrower feed"
            )
            raise BadRequest(message, errors=[{"field": "to", "message": message}])
        if cursor is None:
            break
    return [Entry(event, tuple(times)) for event, times in found.values()]


def grouped(
    entries: list[Entry], *, group: Grouping, lang: str, default_timezone: str
) -> list[tuple[str, list[Entry]]]:
    """Entries under the day of their first occurrence, or under their category."""
    groups: dict[date | str, list[Entry]] = {}
    for entry in entries:
        key: date | str
        if group == "day":
            # The day in the event's own zone: the one its date phrase names.
            tz = zone(entry.event.document["timezone"])
            key = from_epoch(entry.times[0][0], tz).date()
        else:
            key = entry.event.document["category"]
        groups.setdefault(key, []).append(entry)
    if group == "category":
        # Categories in the order of their first event.
        return [(group_label(k, lang), v) for k, v in groups.items()]
    return [(group_label(k, lang), v) for k, v in sorted(groups.items(), key=lambda kv: kv[0])]


async def render_digest(
    storage: Storage,
    *,
    settings: Settings,
    templates: NewsletterTemplates,
    blocks: BlockCache,
    flt: EventFilter,
    feed_slug: str,
    feed_title: str,
    first: date,
    last: date,
    lang: str,
    group: Grouping,
    fmt: Format,
) -> str:
    """A feed's digest from ``first`` to ``last`` (both included)."""
    from_ts, to_ts = day_bounds(first, last, settings.default_timezone)
    entries = await entries_in_window(
        storage, flt=flt, from_ts=from_ts, to_ts=to_ts, cap=settings.max_occurrences
    )
    # Rendered in a thread: a window of many events costs CPU, not the event loop.
    return await asyncio.to_thread(
        _digest,
        entries,
        settings=settings,
        templates=templates,
        blocks=blocks,
        feed_slug=feed_slug,
        feed_title=feed_title,
        first=first,
        last=last,
        lang=lang,
        group=group,
        fmt=fmt,
    )


def _digest(
    entries: list[Entry],
    *,
    settings: Settings,
    templates: NewsletterTemplates,
    blocks: BlockCache,
    feed_slug: str,
    feed_title: str,
    first: date,
    last: date,
    lang: str,
    group: Grouping,
    fmt: Format,
) -> str:
    # Each block is rendered once, on its own: one event that cannot be is left out.
    texts = dict(
        render_each(
            entries,
            lambda e: (e.event.id, blocks.block(templates, e, lang=lang, fmt=fmt, heading=4)),
            what="a digest",
            ident=lambda e: e.event.id,
        )
    )
    kept = [e for e in entries if e.event.id in texts]
    sections = grouped(kept, group=group, lang=lang, default_timezone=settings.default_timezone)
    rendered = [(label, [texts[e.event.id] for e in section]) for label, section in sections]
    view = digest_view(
        brand=templates.brand,
        lang=lang,
        feed_title=feed_title,
        feed_slug=feed_slug,
        first=first,
        last=last,
    )
    return templates.digest(view, rendered, fmt)


def upcoming_times(
    event: StoredEvent, *, now: datetime, days: int, cap: int, listed: int
) -> tuple[tuple[tuple[int, int], ...], int | None]:
    """An event's next occurrences from ``now`` (up to ``listed`` of those within ``days``),
    and the start of its last one within ``days`` when there are more. A past event gives its
    last occurrence."""
    document = stored_event(event.document, event.state)
    now_ts, horizon = epoch(now), epoch(now) + days * 86_400
    # From now, not from the series' start: a drop-in session begun years ago costs the same.
    ahead = occurrences_between(document, window_start=now_ts, window_end=horizon, cap=cap)
    ahead = [o for o in ahead if o.end > now_ts]
    if not ahead:
        schedule = schedule_of(document, now=now, horizon_days=days, cap=cap)
        past = [o for o in schedule.occurrences if o.start < now_ts] or schedule.occurrences[:1]
        return ((past[-1].start, past[-1].end),), None
    times = tuple((o.start, o.end) for o in ahead[:listed])
    more = ahead[-1].start if len(ahead) > listed else None
    return times, more


# An RSS or JSON feed lists at most this many events: a newsletter section, not an archive.
MAX_SYNDICATED = 200


async def syndication_items(
    storage: Storage,
    *,
    settings: Settings,
    templates: NewsletterTemplates,
    blocks: BlockCache,
    flt: EventFilter,
    lang: str,
    now: datetime,
) -> list[SyndicationItem]:
    """The feed's events with an occurrence in the next ``syndication_days``, by their next
    occurrence, each with its blocks (HTML and text) and its structured form."""
    from_ts = epoch(now)
    window = EventFilter(
        **{
            **flt.__dict__,
            "from_ts": from_ts,
            "to_ts": from_ts + settings.syndication_days * 86_400,
        }
    )
    found, _ = await list_events(
        storage, flt=window, limit=MAX_SYNDICATED, cursor=None, cap=settings.max_occurrences
    )
    brand = templates.brand

    def item(event: StoredEvent) -> SyndicationItem:
        times, more = upcoming_times(
            event,
            now=now,
            days=settings.syndication_days,
            cap=settings.max_occurrences,
            listed=MAX_LISTED_DATES,
        )
        entry = Entry(event, times, more)
        view = event_view(
            event, times, lang=lang, brand=brand, with_description=False, more_until_ts=more
        )
        structured = event_json(
            event, lang=lang, default_language=settings.default_language, base_url=brand.base_url
        )
        structured["when"] = view["when"]
        structured["occurrences"] = [_occurrence_json(event, s, e) for s, e in times]
        label = view["mark"] if view["mark_strong"] else ""
        return SyndicationItem(
            guid=event.uid,
            title=f"[{label}] {view['title']}" if label else view["title"],
            link=view["more_url"],
            published=datetime.fromtimestamp(
                (event.published_us or event.created_us) / 1_000_000, UTC
            ),
            modified=datetime.fromtimestamp(event.updated_us / 1_000_000, UTC),
            summary=short_description([view["when"], ", ".join(view["where"]), view["summary"]]),
            html=blocks.block(templates, entry, lang=lang, fmt="html", heading=3),
            text=blocks.block(templates, entry, lang=lang, fmt="txt", heading=3),
            category=group_label(event.document["category"], lang),
            tags=tuple(event.document.get("tags") or ()),
            image=view["image"],
            event=structured,
        )

    # Rendered in a thread: up to MAX_SYNDICATED blocks cost CPU, not the event loop.
    items = await asyncio.to_thread(
        render_each, found, item, what="a syndication feed", ident=lambda e: e.id
    )
    return items


def _occurrence_json(event: StoredEvent, start_ts: int, end_ts: int) -> dict[str, str | None]:
    """An occurrence as the JSON API writes it: local times with offsets, or days (the last
    one included) for all-day events; no end for an event without one."""
    doc = event.document
    tz = zone(doc["timezone"])
    start = from_epoch(start_ts, tz)
    if doc["all_day"]:
        last = from_epoch(end_ts, tz) - timedelta(days=1) if doc.get("end") else start
        return {"start": start.date().isoformat(), "end": last.date().isoformat()}
    end = from_epoch(end_ts, tz).isoformat() if doc.get("end") is not None else None
    return {"start": start.isoformat(), "end": end}
