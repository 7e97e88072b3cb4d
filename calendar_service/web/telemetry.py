"""Each request's log line, metrics and ``X-Request-ID``, from the outermost layer of the app:
it sees every answer, the 304s the rendering cache gives before routing and the 500s of
Starlette's error layer included.

A line holds the method, the path without its query (queries can carry tokens), the route
template, status, duration, bytes sent, request id, client address and process id; never
headers, cookies or bodies.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import time
from collections.abc import Sequence

import orjson
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from calendar_service import logs, metrics
from calendar_service.errors import ServiceError
from calendar_service.web.cached import CachedRenderings

logger = logging.getLogger("calendar_service.requests")
# A caller's request id is kept only when it cannot disturb a log line or a header.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Templates of the paths answered before routing, remembered (paths are unbounded: a cap).
MATCHED_PATHS = 4_096


class RequestIds:
    """New request ids: a random prefix per process and a counter (unique, and cheaper than
    16 random bytes a request on the hot path of cached answers)."""

    def __init__(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count(1)

    def new(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


def request_id_of(scope: Scope, ids: RequestIds) -> str:
    """The caller's ``X-Request-ID`` when it is short and safe, else a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if SAFE_REQUEST_ID.fullmatch(given):
                return given
            break
    return ids.new()


def route_template(route: BaseRoute) -> str | None:
    """The path template of ``route`` (``/events/{key}``), the label of its metrics."""
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


class Telemetry:
    """ASGI middleware: logs, counts and ids every HTTP request that passes through it."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes
        self._matched: dict[tuple[str, str], str | None] = {}
        self._ids = RequestIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope, self._ids)
        method: str = scope["method"]
        path: str = scope["path"]
        status = 500  # what the server answers when the app fails before answering
        sent = 0
        started_answer = finished_answer = False

        async def observed(message: Message) -> None:
            nonlocal status, sent, started_answer, finished_answer
            if message["type"] == "http.response.start":
                started_answer = True
                status = message["status"]
                # The service never sets X-Request-ID itself: it is added, not replaced.
                headers = message.get("headers")
                entry = (b"x-request-id", request_id.encode())
                if isinstance(headers, list):
                    headers.append(entry)  # the list of this one answer
                else:
                    message = {**message, "headers": [*(headers or ()), entry]}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                finished_answer = not message.get("more_body", False)
            await send(message)

        marker = logs.request_id.set(request_id)
        metrics.request_started()
        try:
            await self.app(scope, receive, observed)
        except Exception:
            # Starlette's error layer has logged it and sent the 500, then raises it again: the
            # server would close the connection. The answer is whole, so the client keeps its
            # keep-alive connection; only a half-sent answer still ends it.
            if started_answer and not finished_answer:
                raise
            if not started_answer:
                logger.exception("unexpected error on %s %s", method, path)
                await _send_500(observed)
        finally:
            seconds = time.perf_counter() - started
            route = self._template(scope)
            metrics.request_finished(method=method, route=route, status=status, seconds=seconds)
            level = logging.ERROR if status >= 500 else logging.INFO
            if logger.isEnabledFor(level):
                client = scope.get("client")
                fields = {
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "bytes": sent,
                    "request_id": request_id,
                    "client": client[0] if client else None,
                    "pid": os.getpid(),
                }
                logger.log(level, "%s %s %s", method, path, status, extra={"http": fields})
            logs.request_id.reset(marker)

    def _template(self, scope: Scope) -> str | None:
        # The router leaves the route it chose in the scope; an answer given before routing
        # (the rendering cache's) is matched here, as the router would have matched it.
        chosen = scope.get("route")
        if isinstance(chosen, BaseRoute):
            return route_template(chosen)
        key = (scope["method"], scope["path"])
        if key not in self._matched:
            if len(self._matched) >= MATCHED_PATHS:
                self._matched.clear()
            self._matched[key] = self._match(scope)
        return self._matched[key]

    def _match(self, scope: Scope) -> str | None:
        partial: BaseRoute | None = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return route_template(route)
            if match == Match.PARTIAL and partial is None:
                partial = route
        return route_template(partial) if partial is not None else None


async def _send_500(send: Send) -> None:
    body = orjson.dumps(
        ServiceError("something went wrong on our side; it has been logged").problem()
    )
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ObservedStarlette(Starlette):
    """Starlette with ``Telemetry`` around all of it, Starlette's own error layer included,
    so that a 500 is logged, counted and carries its X-Request-ID like any other answer; and
    the rendering cache's warm answers just inside it, before every other layer."""

    def build_middleware_stack(self) -> ASGIApp:
        return Telemetry(CachedRenderings(super().build_middleware_stack()), routes=self.routes)
