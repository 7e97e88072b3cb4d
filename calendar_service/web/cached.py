"""Answers from the rendering cache: validators, gzip and 304s, the cache keys, and the ASGI
layer that serves warm entries before routing."""

from __future__ import annotations

import functools
import re
from datetime import date
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from calendar_service.cache import Rendered
from calendar_service.dates import utc_now, zone
from calendar_service.settings import Settings

# What the cache may hold: calendar files, RSS and JSON feeds, newsletter blocks and digests,
# the public page of each event and the agenda's pages.
_FEED_FILTERS = ("lang", "category", "status", "tag", "q")
# What an agenda page reads (web/public/agenda.py).
AGENDA_PARAMETERS = (
    "lang",
    "q",
    "feed",
    "category",
    "tag",
    "city",
    "when",
    "from",
    "to",
    "online",
    "free",
    "accessible",
    "dates",
    "period",
    "after",
    "page",
)
# Each cached path, with the query parameters its answer depends on: only those make its key,
# so ``?cb=123`` (or any parameter the service does not read) cannot make a new entry.
CACHED_PATHS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^/feeds/[^/]+\.(?:ics|rss|json)$"), _FEED_FILTERS),
    (re.compile(r"^/events/[^/.]+(?:\.ics)?$"), ("lang",)),
    (re.compile(r"^/newsletter/events/[^/]+\.(?:html|txt|md)$"), ("lang",)),
    (re.compile(r"^/newsletter/[^/]+\.(?:html|txt|md)$"), (*_FEED_FILTERS, "from", "to", "group")),
    (re.compile(r"^/agenda(?:/\d{4}/\d{2})?$"), AGENDA_PARAMETERS),
    (re.compile(r"^/print/[^/]+\.(?:html|pdf)$"), (*_FEED_FILTERS, "from", "to", "group")),
)
# Parameters read as lists (``?tag=a&tag=b`` or ``?tag=a,b``); the others are read once (the
# last value wins, as Starlette's ``QueryParams.get`` reads them).
LIST_PARAMETERS = {"category", "status", "tag"}


@functools.lru_cache(maxsize=4_096)
def cached_parameters(path: str) -> tuple[str, ...] | None:
    """The parameters the cached answer for ``path`` depends on; ``None`` when it is not one
    the cache holds."""
    for pattern, names in CACHED_PATHS:
        if pattern.match(path):
            return names
    return None


# Queries remembered with their canonical spelling: warm requests repeat a few (the URLs that
# subscribers have), and parsing one costs more than the rest of a cached answer (4.6 us of
# about 17 for a 304). Bounded in number and in length, so made-up queries cannot grow it.
REMEMBERED_QUERIES = 4_096
REMEMBERED_QUERY_CHARS = 512


def canonical_query(path: str, query: str) -> str:
    """The part of ``query`` that the answer for ``path`` depends on, in one spelling: unknown
    parameters dropped, lists sorted and without repeats, parameters in a fixed order."""
    names = cached_parameters(path) or ()
    if len(query) > REMEMBERED_QUERY_CHARS:
        return _canonical_query(names, query)
    return _remembered_query(names, query)


def _canonical_query(names: tuple[str, ...], query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    kept: list[tuple[str, str]] = []
    for name in sorted(names):
        values = [value for key, value in pairs if key == name]
        if not values:
            continue
        if name in LIST_PARAMETERS:
            items = {item.strip() for value in values for item in value.split(",")}
            if name == "tag":
                items = {item.lower() for item in items}
            kept.append((name, ",".join(sorted(item for item in items if item))))
        else:
            kept.append((name, values[-1]))
    return urlencode(kept)


_remembered_query = functools.lru_cache(maxsize=REMEMBERED_QUERIES)(_canonical_query)


def cache_key(path: str, query: str, today: date) -> tuple[str, str, date]:
    """The cache key of a cached answer: its path, what its query says that matters, and the
    day (retention and "next dates" move daily)."""
    return (path, canonical_query(path, query), today)


def answer_kind(
    entry: Rendered,
    *,
    accept_encoding: str,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> tuple[int, bool]:
    """The status of the answer for a cached rendering (304 when the client's copy is current,
    else 200), and whether it is gzipped (when the client takes gzip)."""
    accepts_gzip = "gzip" in accept_encoding.lower()
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if "*" in tags or entry.etag in tags or entry.gzip_etag in tags:
            return 304, accepts_gzip
    elif if_modified_since:
        try:
            if entry.last_modified <= parsedate_to_datetime(if_modified_since):
                return 304, accepts_gzip
        except (TypeError, ValueError):
            pass  # an unreadable date is ignored, as RFC 9110 asks
    return 200, accepts_gzip


def answer_headers(entry: Rendered, status: int, gzipped: bool) -> dict[str, str]:
    """The headers of an answer from a cached rendering. The entry's carry its Content-Type."""
    headers = {
        **entry.headers,
        "ETag": entry.gzip_etag if gzipped else entry.etag,
        "Last-Modified": entry.last_modified_http,
        "Vary": "Accept-Encoding",
    }
    if status == 200 and gzipped:
        headers["Content-Encoding"] = "gzip"
    return headers


async def cached_answer(
    entry: Rendered,
    *,
    accept_encoding: str,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for a cached rendering: 304 when the client's copy is current,
    gzip when the client takes it."""
    status, gzipped = answer_kind(
        entry,
        accept_encoding=accept_encoding,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
    )
    headers = answer_headers(entry, status, gzipped)
    if status == 304:
        return 304, headers, b""
    return 200, headers, await entry.gzipped() if gzipped else entry.body


async def cached_response(request: Request, entry: Rendered) -> Response:
    status, headers, body = await cached_answer(
        entry,
        accept_encoding=request.headers.get("accept-encoding", ""),
        if_none_match=request.headers.get("if-none-match"),
        if_modified_since=request.headers.get("if-modified-since"),
    )
    return Response(body, status, headers)


def local_today(settings: Settings) -> date:
    return utc_now().astimezone(zone(settings.default_timezone)).date()


class CachedRenderings:
    """Serves warm renderings before routing and middleware: a cached calendar file, RSS or
    JSON feed, newsletter block or digest, or event page at the current content version, or its
    304, costs a dictionary lookup. Anything else (a cold entry, a browser's CORS request) goes
    on to the application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self._cached(scope) if _is_cached_read(scope) else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        bare = scope["method"] == "HEAD" or status == 304
        await send({"type": "http.response.body", "body": b"" if bare else body})

    async def _cached(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        accept_encoding = ""
        if_none_match = if_modified_since = None
        for name, value in scope["headers"]:  # lower-case names (ASGI); the last one counts
            if name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"if-modified-since":
                if_modified_since = value.decode("latin-1")
            elif name == b"origin":
                return None
        state = scope["app"].state
        query = scope["query_string"].decode("latin-1")
        key = cache_key(scope["path"], query, local_today(state.settings))
        entry = await state.rendered.peek(state.storage, key)
        if entry is None:
            return None
        status, gzipped = answer_kind(
            entry,
            accept_encoding=accept_encoding,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
        )
        raw = entry.raw_headers.get((status, gzipped))
        if raw is None:
            headers = answer_headers(entry, status, gzipped)
            # What the CORS path would say: the answer differs for browsers' cross-origin reads.
            headers["Vary"] = "Accept-Encoding, Origin"
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            entry.raw_headers[status, gzipped] = raw
        if status == 304:
            return 304, list(raw), b""  # a copy: a layer above may add to the list it is sent
        body = await entry.gzipped() if gzipped else entry.body
        return 200, [*raw, (b"content-length", str(len(body)).encode())], body


def _is_cached_read(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] in ("GET", "HEAD")
        and cached_parameters(scope.get("path", "")) is not None
    )
