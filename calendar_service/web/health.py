"""Liveness and database check for load balancers and monitoring."""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service import __version__

logger = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    """200 when the database answers, 503 (with the reason) when it does not."""
    try:
        await request.app.state.storage.fetch_val("SELECT 1")
    except Exception as exc:  # any failure means "not healthy"; say which
        logger.warning("health check failed: %s", exc)
        body = {"status": "error", "database": f"unreachable: {type(exc).__name__}"}
        return Response(orjson.dumps(body), 503, media_type="application/json")
    body = {"status": "ok", "database": "ok", "version": __version__}
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


routes = [Route("/healthz", healthz, methods=["GET"])]
