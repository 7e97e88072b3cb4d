"""Proposals: anyone may propose an event (no token); it waits, pending, for an editor.

Defences against spam: a honeypot field (``website``) that people leave empty, a small body
limit, and a rate limit per client address counted in the database (so it holds across
processes). A pending proposal is never shown publicly until an editor publishes it.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.db import events as store
from calendar_service.db import proposals as proposal_store
from calendar_service.db.connection import Storage
from calendar_service.errors import TooManyRequests, ValidationFailed, validation_errors
from calendar_service.models import Proposer
from calendar_service.normalise import parse_event
from calendar_service.schedule import schedule_for
from calendar_service.settings import Settings
from calendar_service.web.api import json_response
from calendar_service.web.inputs import read_json

HONEYPOT = "website"
# Fields only the editors set: a proposal is always pending, scheduled and named by the service.
EDITOR_FIELDS = ("state", "uid", "slug", "status")
ACCEPTED = {
    "status": "pending",
    "message": "Merci ! Votre proposition sera relue par l'équipe avant publication. "
    "Thank you! Your proposal will be reviewed before it is published.",
}


def client_address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:100]


async def _check_rate(storage: Storage, settings: Settings, address: str) -> None:
    now = store.now_us()
    count, first = await proposal_store.recent_proposals(
        storage, address=address, since_us=now - proposal_store.HOUR_US
    )
    if count >= settings.proposals_per_hour and first is not None:
        wait = max(1, math.ceil((first + proposal_store.HOUR_US - now) / 1_000_000))
        raise TooManyRequests(
            f"at most {settings.proposals_per_hour} proposals an hour from one address; "
            f"try again in {math.ceil(wait / 60)} minutes",
            retry_after=wait,
        )


def _proposer(data: dict[str, Any]) -> dict[str, Any]:
    raw = data.pop("proposer", None)
    if raw is None:
        return {}
    try:
        proposer = Proposer.model_validate(raw)
    except ValidationError as exc:
        errors = validation_errors(exc, prefix="proposer")
        raise ValidationFailed("the proposer is not valid", errors=errors) from None
    return proposer.model_dump(exclude_none=True)


async def create_proposal(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    storage: Storage = request.app.state.storage
    data = await read_json(request, max_bytes=settings.max_proposal_bytes)
    if isinstance(data, dict) and data.get(HONEYPOT) not in (None, ""):
        # A robot filled the hidden field: answer as if accepted, and keep nothing.
        return json_response(ACCEPTED, 202)
    address = client_address(request)
    await _check_rate(storage, settings, address)
    if not isinstance(data, dict):
        raise ValidationFailed(
            "a proposal is a JSON object", errors=[{"field": "(body)", "message": "not an object"}]
        )
    data = dict(data)
    data.pop(HONEYPOT, None)
    refused = [
        {"field": name, "message": "set by the editors, not in a proposal"}
        for name in EDITOR_FIELDS
        if name in data
    ]
    if refused:
        raise ValidationFailed("the proposal sets fields only editors set", errors=refused)
    proposer = _proposer(data)
    event = parse_event({**data, "state": "pending"}, settings)
    stored = await store.create_event(
        storage,
        event=event,
        schedule=schedule_for(event, settings),
        render=request.app.state.render,
        default_language=settings.default_language,
        base_url=settings.base_url,
    )
    await proposal_store.record_proposal(
        storage, event_id=stored.id, address=address, proposer=proposer
    )
    request.app.state.clock.changed()
    return json_response(ACCEPTED, 202)


routes = [Route("/api/proposals", create_proposal, methods=["POST"])]
