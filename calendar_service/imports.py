"""Importing calendar events: read and validate a file (``read_calendar``, run in a worker
process under a deadline), then upsert by UID, all valid events in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from calendar_service.db import events as store
from calendar_service.db import history
from calendar_service.db.connection import Storage
from calendar_service.editing import action_for
from calendar_service.errors import ServiceError, ValidationFailed
from calendar_service.ical_import import ImportItem, parse_calendar
from calendar_service.models import EventIn
from calendar_service.normalise import parse_event
from calendar_service.schedule import schedule_for
from calendar_service.settings import Settings


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    dry_run: bool = False
    refused: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": self.rejected,
            "dry_run": self.dry_run,
            "written": not self.dry_run and not self.refused,
        }

    def summary(self) -> str:
        return (
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, rejected {len(self.rejected)}"
        )


def _reason(exc: ServiceError) -> str:
    if exc.errors:
        return "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
    return exc.detail


def read_calendar(data: bytes, settings: Settings) -> list[ImportItem]:
    """Every event of an iCalendar file, read and validated: all the work of an import that
    depends on the file alone, each item with its ``event`` or its ``error``.

    A top-level function of picklable arguments, so that it can run in a worker process
    (``deadline.call_with_deadline``). ``ImportFileError`` when the file is not iCalendar.
    """
    items = parse_calendar(data, default_timezone=settings.default_timezone)
    for item in items:
        _validate(item, settings)
    return items


def _validate(item: ImportItem, settings: Settings) -> None:
    """Set ``item.event`` from its document, or ``item.error`` to why it is not valid."""
    if item.event is not None or item.document is None:
        return
    try:
        item.event = parse_event(item.document, settings)
    except ValidationFailed as exc:
        item.error = _reason(exc)


def _newer(item: ImportItem, current: store.StoredEvent) -> bool:
    """A newer SEQUENCE wins; at the same SEQUENCE, a later LAST-MODIFIED."""
    if item.sequence != current.sequence:
        return item.sequence > current.sequence
    return item.modified_us is not None and item.modified_us > current.updated_us


async def import_events(
    storage: Storage,
    *,
    items: list[ImportItem],
    settings: Settings,
    render: store.Renderer,
    dry_run: bool = False,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
    actor: str = "import",
) -> ImportReport:
    """Create or update each valid event, or report why not; nothing is half-written.

    Every event is checked first (unless ``read_calendar`` did). With ``strict``, one rejected
    event refuses the whole file.
    The writes then run in one transaction, with their history lines written by ``actor``
    (``import:<source>``): an interruption leaves the store as it was.
    """
    report = ImportReport(dry_run=dry_run)
    valid: list[tuple[ImportItem, EventIn]] = []
    for item in items:
        _validate(item, settings)
        if item.event is None:
            report.rejected.append(
                {"uid": item.uid, "title": item.title, "reason": item.error or "not valid"}
            )
        else:
            valid.append((item, item.event))
    if strict and report.rejected:
        report.refused = True
        return report
    changes: list[history.Change] = []
    async with storage.transaction():
        for done, (item, event) in enumerate(valid, start=1):
            current = await store.get_event_by_uid(storage, uid=item.uid)
            if current is None:
                if not dry_run:
                    created = await store.create_event(
                        storage,
                        event=event,
                        schedule=schedule_for(event, settings),
                        render=render,
                        default_language=settings.default_language,
                        base_url=settings.base_url,
                        sequence=item.sequence,
                    )
                    changes.append(
                        history.Change(created.id, "created", after=history.snapshot(created))
                    )
                report.created.append(item.uid)
            elif current.deleted_us is not None:
                report.rejected.append(
                    {"uid": item.uid, "title": item.title, "reason": "deleted here; not restored"}
                )
            elif _newer(item, current):
                if not dry_run:
                    updated = await store.update_event(
                        storage,
                        current=current,
                        event=event.model_copy(update={"slug": current.slug}),
                        schedule=schedule_for(event, settings),
                        render=render,
                        min_sequence=item.sequence,
                    )
                    before, after = history.snapshot(current), history.snapshot(updated)
                    action = action_for(before, after or {})
                    changes.append(history.Change(updated.id, action, before, after))
                report.updated.append(item.uid)
            else:
                report.unchanged.append(item.uid)
            if progress is not None:
                progress(done, len(valid))
        await history.record_many(storage, actor=actor, changes=changes)
    return report
