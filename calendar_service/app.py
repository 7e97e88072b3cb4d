"""``create_app(settings)``: the whole service as one Starlette application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from calendar_service.cache import RenderedCache, VersionClock
from calendar_service.db.connection import Storage
from calendar_service.digests import BlockCache
from calendar_service.errors import (
    MethodNotAllowed,
    NotFound,
    ServiceError,
    SignInRequired,
    TooManyRequests,
)
from calendar_service.feedspec import load_feeds
from calendar_service.media.store import DatabaseMediaStore
from calendar_service.media.uploads import ImageWork
from calendar_service.render.ical import RenderContext, renderer
from calendar_service.render.newsletter import Brand, NewsletterTemplates
from calendar_service.settings import Settings
from calendar_service.web import health
from calendar_service.web.api import events as api
from calendar_service.web.api import imports, openapi, proposals
from calendar_service.web.api import media as media_api
from calendar_service.web.editor import admin as editor_admin
from calendar_service.web.editor import events as editor_events
from calendar_service.web.editor import flyer as editor_flyer
from calendar_service.web.editor import moderation as editor_proposals
from calendar_service.web.editor import signin as editor_auth
from calendar_service.web.html import render_page, ui_language
from calendar_service.web.public import (
    agenda,
    embed,
    newsletter,
    pages,
    preview,
    printing,
    proposer,
    syndication,
)
from calendar_service.web.public import feeds as feeds_web
from calendar_service.web.public import media as media_files
from calendar_service.web.public.media import FileCache
from calendar_service.web.telemetry import ObservedStarlette

logger = logging.getLogger(__name__)
READ_METHODS = ("GET", "HEAD")


def problem_response(error: ServiceError) -> Response:
    """The one error body of the service: RFC 9457 problem+json."""
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    return Response(
        orjson.dumps(error.problem()),
        status_code=error.status,
        headers=headers,
        media_type="application/problem+json",
    )


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, a feed or a file) gets an HTML error page."""
    path = request.url.path
    accept = request.headers.get("accept", "")
    return (
        "text/html" in accept
        and not path.startswith(("/api/", "/feeds/", "/newsletter/", "/static/"))
        and not path.endswith((".ics", ".rss", ".json", ".txt", ".md", ".js"))
    )


def error_page(request: Request, error: ServiceError) -> Response:
    return render_page(
        request,
        "pages/error.html",
        {
            "error": error,
            "ui": ui_language(request.query_params.get("lang"), request.app.state.settings),
        },
        status=error.status,
    )


def sign_in_redirect(request: Request) -> Response:
    """A browser asking for an editor page without a session is sent to sign in, then back."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/editor/login?{urlencode({'next': here})}", status_code=303)


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if isinstance(exc, SignInRequired) and wants_page(request):
        return sign_in_redirect(request)
    if wants_page(request):
        return error_page(request, exc)
    return problem_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        missing = NotFound(f"nothing at {request.url.path}")
        return error_page(request, missing) if wants_page(request) else problem_response(missing)
    if exc.status_code == 405:
        response = problem_response(
            MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        )
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    error = ServiceError(str(exc.detail))
    body = {**error.problem(), "status": exc.status_code, "title": str(exc.detail)}
    return Response(orjson.dumps(body), exc.status_code, media_type="application/problem+json")


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(ServiceError("something went wrong on our side; it has been logged"))


class ReadOnlyCORS:
    """CORS for public reads only: writes get no CORS headers and their preflights fail."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.plain = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=list(READ_METHODS),
            allow_headers=["If-None-Match", "If-Modified-Since"],
            expose_headers=["ETag", "Last-Modified", "Location"],
            max_age=86_400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in (*READ_METHODS, "OPTIONS"):
            await self.cors(scope, receive, send)
        else:
            await self.plain(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    """The ASGI application for ``settings``; the database connects in the lifespan."""
    storage = Storage(settings.database_url)
    feeds = load_feeds(settings.feeds_dir, languages=settings.languages)
    clock = VersionClock()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await storage.connect()
        try:
            yield
        finally:
            await storage.disconnect()

    app = ObservedStarlette(
        routes=[
            *api.routes,
            *proposals.routes,
            *imports.routes,
            *media_api.routes,
            *media_files.routes,
            *printing.routes,
            *feeds_web.routes,
            *preview.routes,
            *newsletter.routes,
            *syndication.routes,
            *openapi.routes,
            *health.routes,
            *embed.routes,
            *pages.routes,
            *agenda.routes,
            *editor_auth.routes,
            *editor_flyer.routes,  # before the event's actions (/editor/events/{id}/{action})
            *editor_events.routes,
            *editor_proposals.routes,
            *editor_admin.routes,
            *proposer.routes,
            Mount("/static", StaticFiles(packages=[("calendar_service", "static")])),
        ],
        middleware=[
            Middleware(ReadOnlyCORS, origins=settings.cors_origins),
        ],
        exception_handlers={
            ServiceError: _service_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.storage = storage
    app.state.feeds = feeds
    app.state.render = renderer(RenderContext.from_settings(settings))
    app.state.clock = clock
    app.state.rendered = RenderedCache(clock, settings.cache_bytes)
    app.state.templates = NewsletterTemplates(Brand.from_settings(settings), settings.templates_dir)
    app.state.blocks = BlockCache(settings.block_cache_bytes)
    app.state.widget = embed.Widget()
    app.state.agenda_cities = {}  # the agenda form's cities, at one content version
    app.state.media = DatabaseMediaStore(storage)
    app.state.media_files = FileCache(settings.media_cache_bytes)
    app.state.image_work = ImageWork()
    app.state.pdf_slots = printing.PdfSlots()
    return app


def app_from_environment() -> Starlette:
    """The app with settings from the environment: uvicorn's factory (``factory=True``) in
    each worker process of ``calendar-service serve``."""
    return create_app(Settings())
