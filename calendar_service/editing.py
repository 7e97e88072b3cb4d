"""Writing events on someone's behalf: the one path the API, the editor pages, proposals and
their moderation share, so that every change is validated the same way, stored with what is
derived from it, written in the event's history in the same transaction, and seen by caches.

``actor`` names who acts (see ``db.history``); ``app_state`` is ``request.app.state``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calendar_service.db import events as store
from calendar_service.db import history
from calendar_service.db.connection import Storage
from calendar_service.errors import Gone, NotFound, PreconditionFailed
from calendar_service.media.uploads import prepare_image, unknown_picture
from calendar_service.models import EventIn
from calendar_service.normalise import parse_event
from calendar_service.render.jsonapi import timestamp
from calendar_service.schedule import schedule_for
from calendar_service.settings import Settings

# Called on the locked current event before a change: raises to refuse it (412, 422).
Check = Callable[[store.StoredEvent], None]

# What a change of state or status is called in the history; any other change is "updated".
_STATE_ACTIONS = {"published": "published", "draft": "unpublished", "pending": "unpublished"}
_STATUS_ACTIONS = {
    "cancelled": "cancelled",
    "postponed": "postponed",
    "rescheduled": "rescheduled",
    "scheduled": "rescheduled",
}


def action_for(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    """The history's name for a change from ``before`` to ``after`` (snapshots)."""
    if before is None:
        return "created"
    if before.get("state") != after.get("state"):
        return _STATE_ACTIONS.get(str(after.get("state")), "updated")
    if before.get("status") != after.get("status"):
        return _STATUS_ACTIONS.get(str(after.get("status")), "updated")
    return "updated"


def editable_document(event: store.StoredEvent) -> dict[str, Any]:
    """The event as a client would write it back (document plus uid, slug and state)."""
    return {**event.document, "uid": event.uid, "slug": event.slug, "state": event.state}


async def add_event(
    app_state: Any, *, data: Any, actor: str, action: str | None = None
) -> store.StoredEvent:
    """Validate ``data`` (a client's document) and store it as a new event."""
    settings: Settings = app_state.settings
    data = await with_picture(app_state, data)
    event = parse_event(data, settings)
    return await store_new_event(app_state, event=event, actor=actor, action=action)


async def with_picture(app_state: Any, data: Any) -> Any:
    """``data`` with its uploaded picture checked and sized, its crops made (before any
    transaction: the work takes a moment and must not hold the database)."""
    if not isinstance(data, dict) or not isinstance(data.get("image"), dict):
        return data
    image = await prepare_image(app_state.media, app_state.image_work, data["image"])
    return {**data, "image": image}


async def _sized(app_state: Any, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with its uploaded picture's true size (a cheap read in the transaction)."""
    image = document.get("image")
    if not isinstance(image, dict) or not isinstance(image.get("media"), str):
        return document
    record = await app_state.media.find(image["media"])
    if record is None:  # removed meanwhile (``media prune``)
        raise unknown_picture()
    return {**document, "image": {**image, "width": record.width, "height": record.height}}


async def store_new_event(
    app_state: Any, *, event: EventIn, actor: str, action: str | None = None
) -> store.StoredEvent:
    """Store an already validated event as a new one."""
    settings: Settings = app_state.settings
    storage: Storage = app_state.storage
    async with storage.transaction():
        stored = await store.create_event(
            storage,
            event=event,
            schedule=schedule_for(event, settings),
            render=app_state.render,
            default_language=settings.default_language,
            base_url=settings.base_url,
        )
        after = history.snapshot(stored)
        await history.record(
            storage,
            event_id=stored.id,
            actor=actor,
            action=action or "created",
            before=None,
            after=after,
        )
    app_state.clock.changed()
    return stored


async def locked_event(storage: Storage, key: str) -> store.StoredEvent:
    """The event ``key`` (id or slug), locked for the transaction; 404 / 410 otherwise."""
    current = await store.get_event(storage, key=key, for_update=True)
    if current is None:
        raise NotFound(f"no event {key!r}")
    if current.deleted_us is not None:
        raise Gone(f"event {key!r} was deleted on {timestamp(current.deleted_us)}")
    return current


async def change_event(
    app_state: Any,
    *,
    key: str,
    document: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    actor: str,
    action: str | None = None,
    expected_version: str | None = None,
    check: Check | None = None,
    document_for: Callable[[store.StoredEvent], dict[str, Any]] | None = None,
) -> store.StoredEvent:
    """Replace event ``key`` by ``document`` (a whole client document), or apply ``changes``
    (top-level fields, such as ``{"state": "published"}``) to its current document.

    ``expected_version`` (an ``etag_version``) refuses a change made on a stale copy: 412.
    ``check`` may refuse the change after the event is locked; ``document_for`` builds the
    new document from the locked event (the API's merge patch), instead of ``document``.
    """
    settings: Settings = app_state.settings
    storage: Storage = app_state.storage
    if document is not None:
        document = await with_picture(app_state, document)
    if changes is not None:
        changes = await with_picture(app_state, changes)
    async with storage.transaction():
        current = await locked_event(storage, key)
        if expected_version is not None and expected_version != current.etag_version:
            raise PreconditionFailed(
                "the event was changed by someone else meanwhile; reload it before saving"
            )
        if check is not None:
            check(current)
        if document_for is not None:
            document = document_for(current)
        if document is None:
            document = {**editable_document(current), **(changes or {})}
        event = parse_event(await _sized(app_state, document), settings)
        stored = await store.update_event(
            storage,
            current=current,
            event=event,
            schedule=schedule_for(event, settings),
            render=app_state.render,
        )
        before, after = history.snapshot(current), history.snapshot(stored)
        await history.record(
            storage,
            event_id=stored.id,
            actor=actor,
            action=action or action_for(before, after or {}),
            before=before,
            after=after,
        )
    app_state.clock.changed()
    return stored


async def prepare_patched_picture(app_state: Any, *, key: str, patch: Any) -> None:
    """Before a merge patch is applied (in a transaction): when it changes the picture, check
    it and make its crops for the focal point it will have, as for a whole document."""
    if not isinstance(patch, dict) or not isinstance(patch.get("image"), dict):
        return
    current = await store.get_event(app_state.storage, key=key)
    before = (current.document.get("image") if current is not None else None) or {}
    await prepare_image(app_state.media, app_state.image_work, {**before, **patch["image"]})


async def remove_event(
    app_state: Any,
    *,
    key: str,
    actor: str,
    action: str = "deleted",
    expected_version: str | None = None,
    check: Check | None = None,
) -> store.StoredEvent:
    """Delete event ``key`` (a tombstone remains for feeds and sync); ``check`` may refuse it
    once the event is locked."""
    storage: Storage = app_state.storage
    async with storage.transaction():
        current = await locked_event(storage, key)
        if expected_version is not None and expected_version != current.etag_version:
            raise PreconditionFailed(
                "the event was changed by someone else meanwhile; reload it before deleting"
            )
        if check is not None:
            check(current)
        stored = await store.delete_event(storage, current=current, render=app_state.render)
        await history.record(storage, event_id=stored.id, actor=actor, action=action)
    app_state.clock.changed()
    return stored
