"""The JSON API: events, occurrences, categories and tokens. Handlers parse, call, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service import editing, mail
from calendar_service.dates import epoch, utc_now
from calendar_service.db import events as store
from calendar_service.db import listings
from calendar_service.db import proposals as proposal_store
from calendar_service.db import tokens as token_store
from calendar_service.db.connection import Storage
from calendar_service.digits import is_number
from calendar_service.errors import (
    Gone,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
)
from calendar_service.render.jsonapi import event_json, occurrence_json, timestamp, tombstone_json
from calendar_service.resilience import render_each
from calendar_service.settings import Settings
from calendar_service.vocabulary import CATEGORIES
from calendar_service.web.api.auth import optional_token, require_role
from calendar_service.web.inputs import PATCH_TYPES, QueryReader, feed_filter, narrow, read_json
from calendar_service.web.responses import json_response

STATES = ("draft", "published", "pending")
LOCALIZED_PATHS: tuple[tuple[str, ...], ...] = (
    ("title",),
    ("summary",),
    ("description",),
    ("price",),
    ("status_note",),
    ("image", "alt"),
    ("accessibility", "note"),
    ("audience", "note"),
)
DEFAULT_WINDOW = timedelta(days=90)


def _context(request: Request) -> tuple[Settings, Storage]:
    return request.app.state.settings, request.app.state.storage


def actor_of(token: token_store.Token) -> str:
    """How the history names a change made with ``token``."""
    return f"token:{token.name}"


def _etag(event: store.StoredEvent, lang: str | None) -> str:
    return f'"{event.etag_version}{"-" + lang if lang else ""}"'


def _etag_versions(header: str) -> set[str]:
    """The event versions named by an ``If-Match`` header (weak tags never match)."""
    versions = set()
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            continue
        parts = tag.strip('"').split("-")
        versions.add("-".join(parts[:2]))
    return versions


def _check_if_match(request: Request, event: store.StoredEvent) -> None:
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return
    if event.etag_version not in _etag_versions(header):
        raise PreconditionFailed(
            f"the event is now at version {_etag(event, None)}; read it again before changing it"
        )


async def _visible_event(
    request: Request, key: str, *, authenticated: bool | None = None
) -> store.StoredEvent:
    """The event named in the path, as the caller may see it (404 / 410 otherwise)."""
    _, storage = _context(request)
    if authenticated is None:
        authenticated = await optional_token(request) is not None
    event = await store.get_event(storage, key=key)
    if event is None or (event.state != "published" and not authenticated):
        raise NotFound(f"no event {key!r}")
    if event.deleted_us is not None:
        raise Gone(f"event {key!r} was deleted on {timestamp(event.deleted_us)}")
    return event


def _filter(
    request: Request, reader: QueryReader, token: token_store.Token | None
) -> listings.EventFilter:
    states = reader.choices("state", STATES) or ["published"]
    if states != ["published"] and token is None:
        raise Unauthorized("listing unpublished events (state=...) needs a token")
    base = listings.EventFilter()
    feed_slug = reader.text("feed")
    if feed_slug is not None:
        feed = request.app.state.feeds.get(feed_slug)
        if feed is None:
            reader.fail("feed", f"unknown feed {feed_slug!r}; see /api/feeds")
        else:
            base = feed_filter(feed)
    flt = narrow(base, reader)
    flt.states = states
    flt.from_ts = reader.instant("from")
    flt.to_ts = reader.instant("to")
    since = reader.instant("updated_since")
    if since is not None:
        flt.updated_since_us = since * 1_000_000
    if flt.from_ts is not None and flt.to_ts is not None and flt.to_ts <= flt.from_ts:
        reader.fail("to", "must be after 'from'")
    return flt


def _check_window(reader: QueryReader, flt: listings.EventFilter, settings: Settings) -> None:
    if flt.from_ts is None or flt.to_ts is None or flt.updated_since_us is not None:
        return
    if flt.to_ts - flt.from_ts > settings.max_window_days * 86_400:
        reader.fail("to", f"the window is at most {settings.max_window_days} days long")


async def _listing(
    request: Request, settings: Settings
) -> tuple[QueryReader, listings.EventFilter, str | None, int, str | None]:
    """What both listings read from the query: filter, language, page size and cursor."""
    reader = QueryReader(request, settings)
    flt = _filter(request, reader, await optional_token(request))
    lang = reader.language()
    limit = reader.integer("limit", default=settings.page_size, lo=1, hi=settings.max_page_size)
    return reader, flt, lang, limit, reader.text("cursor")


async def list_events(request: Request) -> Response:
    settings, storage = _context(request)
    reader, flt, lang, limit, cursor = await _listing(request, settings)
    if (flt.from_ts is None) != (flt.to_ts is None) and flt.updated_since_us is None:
        # A window open on one side is closed at the longest window allowed.
        span = settings.max_window_days * 86_400
        if flt.from_ts is None and flt.to_ts is not None:
            flt.from_ts = flt.to_ts - span
        elif flt.from_ts is not None:
            flt.to_ts = flt.from_ts + span
    _check_window(reader, flt, settings)
    reader.check()
    found, next_cursor = await listings.list_events(
        storage, flt=flt, limit=limit, cursor=cursor, cap=settings.max_occurrences
    )
    items = render_each(
        found,
        lambda e: (
            tombstone_json(e)
            if e.deleted_us is not None
            else event_json(
                e, lang=lang, default_language=settings.default_language, base_url=settings.base_url
            )
        ),
        what="/api/events",
        ident=lambda e: e.id,
    )
    return json_response({"items": items, "next_cursor": next_cursor})


async def list_occurrences(request: Request) -> Response:
    settings, storage = _context(request)
    reader, flt, lang, limit, cursor = await _listing(request, settings)
    from_ts = flt.from_ts if flt.from_ts is not None else epoch(utc_now())
    to_ts = flt.to_ts if flt.to_ts is not None else from_ts + int(DEFAULT_WINDOW.total_seconds())
    _check_window(reader, listings.EventFilter(from_ts=from_ts, to_ts=to_ts), settings)
    if flt.updated_since_us is not None:
        reader.fail("updated_since", "use updated_since with /api/events")
    once = reader.boolean("once")
    reader.check()
    flt.from_ts = flt.to_ts = None
    found, next_cursor = await listings.list_occurrences(
        storage,
        flt=flt,
        from_ts=from_ts,
        to_ts=to_ts,
        limit=limit,
        cursor=cursor,
        cap=settings.max_occurrences,
        once=once,
    )
    items = render_each(
        found,
        lambda o: occurrence_json(
            o, lang=lang, default_language=settings.default_language, base_url=settings.base_url
        ),
        what="/api/occurrences",
        ident=lambda o: o.event.id,
    )
    return json_response({"items": items, "next_cursor": next_cursor})


async def get_event(request: Request) -> Response:
    settings, _ = _context(request)
    reader = QueryReader(request, settings)
    lang = reader.language()
    reader.check()
    event = await _visible_event(request, request.path_params["key"])
    etag = _etag(event, lang)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and (if_none_match.strip() == "*" or etag in if_none_match.split(", ")):
        return Response(status_code=304, headers=headers)
    body = event_json(
        event, lang=lang, default_language=settings.default_language, base_url=settings.base_url
    )
    return json_response(body, headers=headers)


async def create_event(request: Request) -> Response:
    settings, _ = _context(request)
    token = await require_role(request, "editor")
    data = await read_json(request, max_bytes=settings.max_body_bytes)
    stored = await editing.add_event(request.app.state, data=data, actor=actor_of(token))
    body = event_json(
        stored, lang=None, default_language=settings.default_language, base_url=settings.base_url
    )
    headers = {"Location": body["links"]["self"], "ETag": _etag(stored, None)}
    return json_response(body, 201, headers)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _localize_patch(patch: dict[str, Any], default_language: str) -> dict[str, Any]:
    """A plain string given for a text field patches only the default language."""
    patch = dict(patch)
    for path in LOCALIZED_PATHS:
        holder: Any = patch
        for part in path[:-1]:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(path[-1]), str):
            if len(path) > 1:
                holder = dict(holder)
                patch[path[0]] = holder
            holder[path[-1]] = {default_language: holder[path[-1]]}
    return patch


async def update_event(request: Request) -> Response:
    settings, storage = _context(request)
    token = await require_role(request, "editor")
    patch = await read_json(request, max_bytes=settings.max_body_bytes, types=PATCH_TYPES)
    if not isinstance(patch, dict):
        raise ValidationFailed(
            "a patch is a JSON object", errors=[{"field": "(body)", "message": "not an object"}]
        )

    before: list[str] = []  # the state the event had, read under the lock

    def merged(current: store.StoredEvent) -> dict[str, Any]:
        # Runs under the row's lock: concurrent patches apply one after another.
        before.append(current.state)
        _check_if_match(request, current)
        if "uid" in patch and patch["uid"] != current.uid:
            raise ValidationFailed(
                "the uid never changes", errors=[{"field": "uid", "message": "read-only"}]
            )
        document = editing.editable_document(current)
        return merge_patch(document, _localize_patch(patch, settings.default_language))  # type: ignore[no-any-return]

    await editing.prepare_patched_picture(
        request.app.state, key=request.path_params["key"], patch=patch
    )
    async with storage.transaction():
        stored = await editing.change_event(
            request.app.state,
            key=request.path_params["key"],
            actor=actor_of(token),
            document_for=merged,
        )
        accepted = before == ["pending"] and stored.state == "published"
        proposal = await proposal_store.get_proposal(storage, event_id=stored.id)
        if accepted and proposal is not None and proposal["decision"] is None:
            # Publishing a proposal accepts it, as the queue's button does.
            await proposal_store.record_decision(
                storage, event_id=stored.id, decision="accepted", by=actor_of(token)
            )
        else:
            proposal = None
    body = event_json(
        stored, lang=None, default_language=settings.default_language, base_url=settings.base_url
    )
    response = json_response(body, headers={"ETag": _etag(stored, None)})
    if proposal is not None and proposal["email"]:
        told = mail.proposal_accepted(
            settings,
            event=stored,
            to=proposal["email"],
            lang=proposal["lang"] or settings.default_language,
        )
        response.background = mail.sending(settings, [told])
    return response


async def delete_event(request: Request) -> Response:
    token = await require_role(request, "editor")
    await editing.remove_event(
        request.app.state,
        key=request.path_params["key"],
        actor=actor_of(token),
        check=lambda current: _check_if_match(request, current),
    )
    return Response(status_code=204)


async def list_categories(request: Request) -> Response:
    settings, _ = _context(request)
    reader = QueryReader(request, settings)
    lang = reader.language()
    reader.check()
    items = [
        {"id": key, "label": labels[lang] if lang else labels} for key, labels in CATEGORIES.items()
    ]
    return json_response({"items": items}, headers={"Cache-Control": "public, max-age=3600"})


# --- tokens (admin) -------------------------------------------------------------------------


def _token_json(token: token_store.Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role,
        "prefix": token.prefix,
        "created_at": timestamp(token.created_us),
        "revoked_at": timestamp(token.revoked_us),
    }


async def list_tokens(request: Request) -> Response:
    _, storage = _context(request)
    await require_role(request, "admin")
    found = await token_store.list_tokens(storage)
    return json_response({"items": [_token_json(t) for t in found]})


async def create_token(request: Request) -> Response:
    settings, storage = _context(request)
    await require_role(request, "admin")
    data = await read_json(request, max_bytes=settings.max_body_bytes)
    errors = []
    if not isinstance(data, dict):
        raise ValidationFailed('send {"name": ..., "role": ...}', errors=[])
    name, role = data.get("name"), data.get("role", "editor")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        errors.append({"field": "name", "message": "a name of 1 to 100 characters is required"})
    if role not in token_store.ROLES:
        errors.append({"field": "role", "message": "role is 'editor' or 'admin'"})
    unknown = set(data) - {"name", "role"}
    errors.extend({"field": f, "message": "unknown field"} for f in sorted(unknown))
    if errors or not isinstance(name, str):
        raise ValidationFailed("the token request is not valid", errors=errors)
    token, secret = await token_store.create_token(storage, name=name.strip(), role=role)
    return json_response({**_token_json(token), "token": secret}, 201)


async def revoke_token(request: Request) -> Response:
    _, storage = _context(request)
    await require_role(request, "admin")
    raw = request.path_params["token_id"]
    if not is_number(raw) or not await token_store.revoke_token(storage, token_id=int(raw)):
        raise NotFound(f"no live token {raw!r}")
    return Response(status_code=204)


routes = [
    Route("/api/events", list_events, methods=["GET"]),
    Route("/api/events", create_event, methods=["POST"]),
    Route("/api/occurrences", list_occurrences, methods=["GET"]),
    Route("/api/events/{key}", get_event, methods=["GET"]),
    Route("/api/events/{key}", update_event, methods=["PATCH"]),
    Route("/api/events/{key}", delete_event, methods=["DELETE"]),
    Route("/api/categories", list_categories, methods=["GET"]),
    Route("/api/tokens", list_tokens, methods=["GET"]),
    Route("/api/tokens", create_token, methods=["POST"]),
    Route("/api/tokens/{token_id}", revoke_token, methods=["DELETE"]),
]
