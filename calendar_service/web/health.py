"""What load balancers and monitoring ask: liveness, readiness and Prometheus metrics.

``/healthz`` says the process answers, and nothing else: it touches no database, so a slow
database never makes an orchestrator kill healthy processes. ``/readyz`` says whether this
process can serve: the database answers and its schema is the one this code expects.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service import __version__, metrics
from calendar_service.db.connection import head_revision, schema_revision
from calendar_service.errors import NotFound, Unauthorized

logger = logging.getLogger(__name__)
# A readiness probe that waits longer than this has already told the balancer enough.
READY_TIMEOUT_S = 3.0
NO_STORE = {"Cache-Control": "no-store"}


async def healthz(request: Request) -> Response:
    """Liveness: 200 as long as the process answers requests."""
    body = {"status": "ok", "version": __version__}
    return Response(orjson.dumps(body), media_type="application/json", headers=NO_STORE)


async def readyz(request: Request) -> Response:
    """Readiness: 200 when the database answers and is at the newest migration; 503 with
    what is wrong otherwise."""
    expected = await asyncio.to_thread(head_revision)  # read from the files once, then cached
    body: dict[str, object] = {"status": "ok", "database": "ok", "migrations": "ok"}
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            found = await schema_revision(request.app.state.storage)
    except Exception as exc:  # any failure means "not ready"; say which
        logger.warning("readiness: the database does not answer: %r", exc)
        body["database"] = f"unreachable: {type(exc).__name__}"
        body["migrations"] = "unknown"
    else:
        if found != expected:
            body["migrations"] = (
                f"at {found or 'none'}, this version needs {expected}: "
                "run `calendar-service migrate`"
            )
    ready = body["database"] == "ok" and body["migrations"] == "ok"
    body["status"] = "ok" if ready else "unavailable"
    body["version"] = __version__
    return Response(
        orjson.dumps(body), 200 if ready else 503, media_type="application/json", headers=NO_STORE
    )


async def metrics_page(request: Request) -> Response:
    """Prometheus metrics, for the bearer of CALENDAR_METRICS_TOKEN only (404 when unset)."""
    token: str | None = request.app.state.settings.metrics_token
    if token is None:
        raise NotFound(f"nothing at {request.url.path}")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # compare_digest takes as long whatever the first differing byte: no timing oracle.
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise Unauthorized("/metrics needs Authorization: Bearer <CALENDAR_METRICS_TOKEN>")
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE, headers=NO_STORE)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics_page, methods=["GET"]),
]
