"""POST /api/import: an iCalendar file into the store (admin); the history names the import
after the token that sent it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.deadline import call_with_deadline
from calendar_service.errors import BadRequest, ValidationFailed
from calendar_service.ical_import import ImportFileError
from calendar_service.imports import import_events, read_calendar
from calendar_service.settings import Settings
from calendar_service.web.api.auth import require_role
from calendar_service.web.inputs import read_body
from calendar_service.web.responses import json_response

CALENDAR_TYPES = ("text/calendar", "application/octet-stream")
TRUE = ("1", "true", "yes")


async def import_calendar(request: Request) -> Response:
    """Upsert the events of the posted file by UID; ``?dry_run=1``, ``?strict=1``.

    The file is read in a worker process, within ``import_seconds`` (422 past it).
    """
    settings: Settings = request.app.state.settings
    token = await require_role(request, "admin")
    data = await read_body(request, max_bytes=settings.max_import_bytes, types=CALENDAR_TYPES)
    try:
        items = await call_with_deadline(
            read_calendar, data, settings, seconds=settings.import_seconds, what="reading the file"
        )
    except ImportFileError as exc:
        raise BadRequest(str(exc)) from None
    report = await import_events(
        request.app.state.storage,
        items=items,
        settings=settings,
        render=request.app.state.render,
        dry_run=request.query_params.get("dry_run", "").lower() in TRUE,
        strict=request.query_params.get("strict", "").lower() in TRUE,
        actor=f"import:{token.name}",
    )
    if report.refused:
        raise ValidationFailed(
            f"{len(report.rejected)} invalid event(s) and strict=1: nothing was imported",
            errors=[
                {"field": r["uid"] or "(no uid)", "message": r["reason"]} for r in report.rejected
            ],
        )
    request.app.state.clock.changed()
    return json_response(report.as_json())


routes = [Route("/api/import", import_calendar, methods=["POST"])]
