"""Answers from the rendering cache: validators, gzip and 304s, and the ASGI layer that serves
warm entries before routing."""

from __future__ import annotations

from datetime import date
from email.utils import parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from calendar_service.cache import Rendered
from calendar_service.dates import utc_now, zone
from calendar_service.settings import Settings

# What the cache may hold: calendar files, RSS and JSON feeds, newsletter blocks and digests.
CACHED_PREFIXES = ("/feeds/", "/events/", "/newsletter/")
CACHED_SUFFIXES = (".ics", ".rss", ".json", ".html", ".txt", ".md")


def cached_answer(
    entry: Rendered,
    *,
    accept_encoding: str,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for a cached rendering: 304 when the client's copy is current,
    gzip when the client takes it. The entry's headers carry its Content-Type."""
    accepts_gzip = "gzip" in accept_encoding.lower()
    headers = {
        **entry.headers,
        "ETag": entry.gzip_etag if accepts_gzip else entry.etag,
        "Last-Modified": entry.last_modified_http,
        "Vary": "Accept-Encoding",
    }
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if "*" in tags or entry.etag in tags or entry.gzip_etag in tags:
            return 304, headers, b""
    elif if_modified_since:
        try:
            if entry.last_modified <= parsedate_to_datetime(if_modified_since):
                return 304, headers, b""
        except (TypeError, ValueError):
            pass  # an unreadable date is ignored, as RFC 9110 asks
    if accepts_gzip:
        headers["Content-Encoding"] = "gzip"
        return 200, headers, entry.gzipped
    return 200, headers, entry.body


def cached_response(request: Request, entry: Rendered) -> Response:
    status, headers, body = cached_answer(
        entry,
        accept_encoding=request.headers.get("accept-encoding", ""),
        if_none_match=request.headers.get("if-none-match"),
        if_modified_since=request.headers.get("if-modified-since"),
    )
    return Response(body, status, headers)


def cache_key(path: str, query: str, today: date) -> tuple[str, str, date]:
    """The cache key of a calendar file: its path and query, and the day (retention moves daily)."""
    return (path, "&".join(sorted(query.split("&"))) if query else "", today)


def local_today(settings: Settings) -> date:
    return utc_now().astimezone(zone(settings.default_timezone)).date()


class CachedRenderings:
    """Serves warm renderings before routing and middleware: a cached calendar file, RSS or
    JSON feed, newsletter block or digest at the current content version, or its 304, costs a
    dictionary lookup. Anything else (a cold entry, a browser's CORS request) goes on to the
    application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self._cached(scope) if _is_cached_read(scope) else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = answer
        # What the CORS path would say: the answer differs for browsers' cross-origin reads.
        headers["Vary"] = "Accept-Encoding, Origin"
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if status == 200:
            raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        bare = scope["method"] == "HEAD" or status == 304
        await send({"type": "http.response.body", "body": b"" if bare else body})

    async def _cached(self, scope: Scope) -> tuple[int, dict[str, str], bytes] | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if "origin" in headers:
            return None
        state = scope["app"].state
        query = scope["query_string"].decode("latin-1")
        key = cache_key(scope["path"], query, local_today(state.settings))
        entry = await state.rendered.peek(state.storage, key)
        if entry is None:
            return None
        return cached_answer(
            entry,
            accept_encoding=headers.get("accept-encoding", ""),
            if_none_match=headers.get("if-none-match"),
            if_modified_since=headers.get("if-modified-since"),
        )


def _is_cached_read(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return (
        scope["type"] == "http"
        and scope["method"] in ("GET", "HEAD")
        and path.endswith(CACHED_SUFFIXES)
        and path.startswith(CACHED_PREFIXES)
    )
