"""Proposals: anyone may propose an event (no token); it waits, pending, for an editor.

Defences against spam: a honeypot field (``website``) that people leave empty, a small body
limit, and a rate limit per client address counted in the database (so it holds across
processes). A pending proposal is never shown publicly until an editor publishes it. The public
form (``web/public/proposer.py``) stores proposals through the same ``submit_proposal``.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service import editing, mail
from calendar_service.db import accounts, limits
from calendar_service.db import events as store
from calendar_service.db import proposals as proposal_store
from calendar_service.db.connection import Storage
from calendar_service.errors import TooManyRequests, ValidationFailed, validation_errors
from calendar_service.models import EventIn, Proposer
from calendar_service.normalise import parse_event
from calendar_service.settings import Settings
from calendar_service.web.inputs import QueryReader, read_json
from calendar_service.web.responses import json_response

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


async def count_proposal(request: Request) -> None:
    """Count one proposal against its address's hourly limit, before anything of it is read
    or checked (a refused proposal counts too), under a lock in the database so that concurrent
    proposals from any process cannot all pass; 429 past the limit."""
    settings: Settings = request.app.state.settings
    key = f"proposal:{client_address(request)}"
    taken = await limits.take(
        request.app.state.storage,
        [limits.Limit(key, settings.proposals_per_hour, proposal_store.HOUR_US)],
    )
    if taken.retry_after is not None:
        raise TooManyRequests(
            f"at most {settings.proposals_per_hour} proposals an hour from one address; "
            f"try again in {math.ceil(taken.retry_after / 60)} minutes",
            retry_after=taken.retry_after,
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


def refuse_editor_fields(data: dict[str, Any]) -> None:
    """A proposal may not set what only editors set (422 naming each field)."""
    refused = [
        {"field": name, "message": "set by the editors, not in a proposal"}
        for name in EDITOR_FIELDS
        if name in data
    ]
    if refused:
        raise ValidationFailed("the proposal sets fields only editors set", errors=refused)


def check_proposal(
    data: dict[str, Any], settings: Settings, *, every: bool = False
) -> tuple[EventIn, dict[str, Any]]:
    """The event and the proposer of ``data`` (a proposal without its honeypot), or 422
    naming the faulty fields: the proposer's first, or with ``every`` the event's as well."""
    data = dict(data)
    refuse_editor_fields(data)
    errors: list[dict[str, str]] = []
    try:
        proposer = _proposer(data)
    except ValidationFailed as exc:
        if not every:
            raise
        proposer, errors = {}, exc.errors
    try:
        event = parse_event({**data, "state": "pending"}, settings)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.detail, errors=errors + exc.errors) from None
    if errors:
        raise ValidationFailed("the proposer is not valid", errors=errors)
    return event, proposer


async def submit_proposal(
    request: Request, data: dict[str, Any], *, every: bool = False, lang: str | None = None
) -> tuple[store.StoredEvent, dict[str, Any]]:
    """Store ``data`` (a proposal without its honeypot) as a pending event, and who proposed
    it; 422 for an invalid proposal (see ``check_proposal`` for ``every``). The caller has
    counted it already (``count_proposal``).

    The one path of the API and the public form; returns the event and the proposer.
    ``lang`` is the language the proposer wrote in (the editors answer in it).
    """
    settings: Settings = request.app.state.settings
    storage: Storage = request.app.state.storage
    address = client_address(request)
    data = await editing.with_picture(request.app.state, data)
    event, proposer = check_proposal(data, settings, every=every)
    async with storage.transaction():
        stored = await editing.store_new_event(
            request.app.state, event=event, actor="proposal", action="proposed"
        )
        await proposal_store.record_proposal(
            storage, event_id=stored.id, address=address, proposer=proposer, lang=lang
        )
    return stored, proposer


async def editors_told(
    request: Request, event: store.StoredEvent, proposer: dict[str, Any]
) -> BackgroundTask | None:
    """The e-mail telling the active editors a proposal arrived, sent after the response
    (``None`` without SMTP, or when ``notify_editors`` is off)."""
    settings: Settings = request.app.state.settings
    if settings.smtp_host is None or not settings.notify_editors:
        return None
    users = await accounts.list_users(request.app.state.storage)
    message = mail.proposal_received(
        settings,
        event=event,
        name=proposer.get("name"),
        email=proposer.get("email"),
        message=proposer.get("message"),
        editors=[user.email for user in users if user.disabled_us is None],
    )
    return mail.sending(settings, [message])


async def create_proposal(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    await count_proposal(request)
    data = await read_json(request, max_bytes=settings.max_proposal_bytes)
    if isinstance(data, dict) and data.get(HONEYPOT) not in (None, ""):
        # A robot filled the hidden field: answer as if accepted, and keep nothing.
        return json_response(ACCEPTED, 202)
    if not isinstance(data, dict):
        raise ValidationFailed(
            "a proposal is a JSON object", errors=[{"field": "(body)", "message": "not an object"}]
        )
    data = {k: v for k, v in data.items() if k != HONEYPOT}
    reader = QueryReader(request, settings)
    lang = reader.language()  # the proposer's language, for the editors' answer
    reader.check()
    stored, proposer = await submit_proposal(request, data, lang=lang)
    response = json_response(ACCEPTED, 202)
    response.background = await editors_told(request, stored, proposer)
    return response


routes = [Route("/api/proposals", create_proposal, methods=["POST"])]
