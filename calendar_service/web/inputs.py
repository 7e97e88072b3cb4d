"""Reading requests: JSON bodies within limits, and query parameters with named errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request

from calendar_service.dates import epoch, lenient_localize, parse_moment, zone
from calendar_service.db.connection import Storage
from calendar_service.db.events import StoredEvent, get_event
from calendar_service.db.listings import EventFilter
from calendar_service.digits import is_number
from calendar_service.errors import (
    BadRequest,
    Gone,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from calendar_service.feedspec import FeedDefinition
from calendar_service.settings import Settings
from calendar_service.vocabulary import CATEGORIES, STATUSES

JSON_TYPES = ("application/json",)
# An event is 4 levels deep; a body much deeper is not one (and recursive code would choke).
MAX_JSON_DEPTH = 32
PATCH_TYPES = ("application/merge-patch+json", "application/json")


async def read_body(request: Request, *, max_bytes: int, types: tuple[str, ...]) -> bytes:
    """The request's body; 415 for another type, 413 past ``max_bytes``, 400 when empty."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in types:
        raise UnsupportedMediaType(
            f"send the body as {' or '.join(types)}"
            + (f", not {media_type}" if media_type else " (Content-Type is missing)")
        )
    body = await read_within(request, max_bytes)
    if not body.strip():
        raise BadRequest("the body is empty")
    return body


async def read_within(request: Request, max_bytes: int, *, too_large: str | None = None) -> bytes:
    """The request's body, refused with 413 (``too_large``, or a message naming the limit) as
    soon as its declared or its streamed size passes ``max_bytes``: never more in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and is_number(declared) and int(declared) > max_bytes:
        raise PayloadTooLarge(
            too_large or f"the body is {declared} bytes; at most {max_bytes} are accepted"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                too_large or f"the body is over {max_bytes} bytes, the most accepted"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(
    request: Request, *, max_bytes: int, types: tuple[str, ...] = JSON_TYPES
) -> Any:
    """The request's JSON body; 415 for another type, 413 past ``max_bytes``, 400 if malformed."""
    body = await read_body(request, max_bytes=max_bytes, types=types)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise BadRequest(f"the body nests more than {MAX_JSON_DEPTH} levels of objects and lists")
    return data


def _deeper_than(value: Any, most: int) -> bool:
    """Whether ``value`` nests objects and lists more than ``most`` levels deep (counted
    without recursion: the depth is the attacker's to choose)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > most:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class QueryReader:
    """Reads query parameters, collecting every problem to report them together (400)."""

    def __init__(self, request: Request, settings: Settings) -> None:
        self.params = request.query_params
        self.settings = settings
        self.errors: list[dict[str, str]] = []

    def fail(self, name: str, message: str) -> None:
        self.errors.append({"field": name, "message": message})

    def check(self) -> None:
        if self.errors:
            raise BadRequest("some query parameters are not valid", errors=self.errors)

    def text(self, name: str, *, max_length: int = 200) -> str | None:
        value = self.params.get(name)
        if value is not None and len(value) > max_length:
            self.fail(name, f"at most {max_length} characters")
            return None
        return value

    def choices(self, name: str, allowed: Any) -> list[str]:
        """Values given as ``name=a&name=b`` or ``name=a,b``, each one of ``allowed``."""
        values = [
            v.strip() for raw in self.params.getlist(name) for v in raw.split(",") if v.strip()
        ]
        for value in values:
            if allowed is not None and value not in allowed:
                self.fail(name, f"unknown value {value!r}; expected one of {', '.join(allowed)}")
        return values

    def boolean(self, name: str) -> bool:
        """``name=true`` (or 1, yes, on; and ``name`` alone); false for false, 0, no, off."""
        raw = self.params.get(name)
        if raw is None:
            return False
        value = raw.strip().lower()
        if value in ("", "1", "true", "yes", "on"):
            return True
        if value not in ("0", "false", "no", "off"):
            self.fail(name, "must be true or false")
        return False

    def integer(self, name: str, *, default: int, lo: int, hi: int) -> int:
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        if not is_number(raw) or not lo <= int(raw) <= hi:
            self.fail(name, f"must be a whole number from {lo} to {hi}")
            return default
        return int(raw)

    def instant(self, name: str) -> int | None:
        """A date (start of that day) or date-time; naive values are in the default zone."""
        raw = self.params.get(name)
        if raw is None or raw == "":
            return None
        tz = zone(self.settings.default_timezone)
        try:
            moment = parse_moment(raw.replace(" ", "+"), what="date or date-time")
        except ValueError as exc:
            self.fail(name, str(exc))
            return None
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, datetime.min.time())
        if moment.tzinfo is None:
            moment = lenient_localize(moment, tz)
        return epoch(moment.astimezone(UTC))

    def language(self) -> str | None:
        lang = self.params.get("lang")
        if lang is not None and lang not in self.settings.languages:
            self.fail(
                "lang", f"unknown language {lang!r}; use {', '.join(self.settings.languages)}"
            )
            return None
        return lang


def named_feed(request: Request, param: str = "slug") -> FeedDefinition:
    """The feed the path names; 404 naming it when there is none."""
    slug = request.path_params[param]
    feed: FeedDefinition | None = request.app.state.feeds.get(slug)
    if feed is None:
        raise NotFound(f"no feed {slug!r}; see /api/feeds")
    return feed


async def public_event(storage: Storage, key: str) -> StoredEvent:
    """A published event by id or slug; 404 when there is none (or it is not published), 410
    when it was deleted."""
    event = await get_event(storage, key=key)
    if event is None or event.state != "published":
        raise NotFound(f"no event {key!r}")
    if event.deleted_us is not None:
        raise Gone(f"event {key!r} was deleted")
    return event


def feed_filter(feed: FeedDefinition) -> EventFilter:
    """The events a feed definition picks."""
    return EventFilter(
        categories=list(feed.filter.categories),
        tags=list(feed.filter.tags),
        statuses=list(feed.filter.statuses),
        organizers=list(feed.filter.organizers),
    )


def narrow(flt: EventFilter, reader: QueryReader) -> EventFilter:
    """A feed's filter narrowed by the request's ``category``, ``tag``, ``q`` and ``status``."""
    narrowed = within(
        flt,
        categories=reader.choices("category", CATEGORIES),
        statuses=reader.choices("status", STATUSES),
        tags=[t.lower() for t in reader.choices("tag", None)],
    )
    narrowed.q = reader.text("q") or ""
    return narrowed


def within(
    flt: EventFilter,
    *,
    categories: Sequence[str] = (),
    statuses: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> EventFilter:
    """``flt`` narrowed to the asked values, never widened: asking for what the feed leaves out
    finds nothing."""
    if categories:
        flt.categories = [c for c in categories if not flt.categories or c in flt.categories]
        if not flt.categories:
            flt.categories = ["(none)"]  # the request asks for categories outside the feed
    if statuses:
        flt.statuses = [s for s in statuses if not flt.statuses or s in flt.statuses] or ["(none)"]
    if tags:
        if flt.tags:
            # Both must hold: the feed's tags and the asked ones; keep the asked ones inside.
            flt.tags = [t for t in tags if t in flt.tags] or ["(none)"]
        else:
            flt.tags = list(tags)
    return flt
