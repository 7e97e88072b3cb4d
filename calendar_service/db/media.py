"""Uploaded pictures and their files, in the database: every process of the service reads the
same ones. ``media.store.DatabaseMediaStore`` is the only caller."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from calendar_service.db.connection import Storage, is_unique_violation
from calendar_service.db.tables import events, media, media_files


@dataclass(frozen=True)
class MediaRecord:
    """A stored picture: its id, what it was, and the size of its clean master."""

    id: str
    created_us: int
    source_type: str
    source_bytes: int
    source_url: str | None
    width: int
    height: int
    has_alpha: bool


@dataclass(frozen=True)
class StoredFile:
    """One file of a picture, as kept and served."""

    name: str
    content_type: str
    width: int
    height: int
    data: bytes


async def find(storage: Storage, media_id: str) -> MediaRecord | None:
    """The picture ``media_id``, if stored."""
    row = await storage.fetch_one(sa.select(media).where(media.c.id == media_id))
    return _record(row) if row else None


async def find_many(storage: Storage, ids: Sequence[str]) -> dict[str, MediaRecord]:
    """The stored pictures among ``ids``."""
    if not ids:
        return {}
    rows = await storage.fetch_all(sa.select(media).where(media.c.id.in_(list(set(ids)))))
    return {row["id"]: _record(row) for row in rows}


def _record(row: Mapping[str, Any]) -> MediaRecord:
    return MediaRecord(
        id=row["id"],
        created_us=int(row["created_us"]),
        source_type=row["source_type"],
        source_bytes=int(row["source_bytes"]),
        source_url=row["source_url"],
        width=int(row["width"]),
        height=int(row["height"]),
        has_alpha=bool(row["has_alpha"]),
    )


async def insert(storage: Storage, record: MediaRecord, files: Sequence[StoredFile]) -> bool:
    """Keep a new picture and its files, all or nothing; False when the same picture was stored
    meanwhile (by another request or process), which then stands."""
    try:
        async with storage.transaction():
            await storage.execute(
                sa.insert(media).values(
                    id=record.id,
                    created_us=record.created_us,
                    source_type=record.source_type,
                    source_bytes=record.source_bytes,
                    source_url=record.source_url,
                    width=record.width,
                    height=record.height,
                    has_alpha=record.has_alpha,
                )
            )
            await _insert_files(storage, record.id, files)
    except Exception as exc:
        if is_unique_violation(exc):
            return False
        raise
    return True


async def add_files(storage: Storage, media_id: str, files: Sequence[StoredFile]) -> None:
    """Keep more files of a stored picture (new crops); those already there stay as they are."""
    names = set(await file_names(storage, media_id))
    missing = [f for f in files if f.name not in names]
    if not missing:
        return
    try:
        async with storage.transaction():
            await _insert_files(storage, media_id, missing)
    except Exception as exc:
        if not is_unique_violation(exc):  # made meanwhile by another request: the same bytes
            raise


async def _insert_files(storage: Storage, media_id: str, files: Sequence[StoredFile]) -> None:
    for f in files:  # one at a time: a statement of several megabytes is enough
        await storage.execute(
            sa.insert(media_files).values(
                media_id=media_id,
                name=f.name,
                content_type=f.content_type,
                width=f.width,
                height=f.height,
                size=len(f.data),
                data=f.data,
            )
        )


async def file_names(storage: Storage, media_id: str) -> list[str]:
    """The names of a picture's files."""
    rows = await storage.fetch_all(
        sa.select(media_files.c.name).where(media_files.c.media_id == media_id)
    )
    return [row["name"] for row in rows]


async def read_file(storage: Storage, media_id: str, name: str) -> StoredFile | None:
    """One file of a picture, if it exists."""
    row = await storage.fetch_one(
        sa.select(media_files).where(media_files.c.media_id == media_id, media_files.c.name == name)
    )
    if row is None:
        return None
    return StoredFile(
        name=row["name"],
        content_type=row["content_type"],
        width=int(row["width"]),
        height=int(row["height"]),
        data=bytes(row["data"]),
    )


async def unused(storage: Storage, *, created_before_us: int) -> list[str]:
    """The pictures no event shows (proposals are events waiting; deleted events show none),
    stored before ``created_before_us`` (a picture just uploaded is not yet in its event)."""
    used = sa.select(events.c.media_id).where(
        events.c.media_id.is_not(None), events.c.deleted_us.is_(None)
    )
    rows = await storage.fetch_all(
        sa.select(media.c.id).where(media.c.created_us < created_before_us, media.c.id.not_in(used))
    )
    return [row["id"] for row in rows]


async def delete(storage: Storage, ids: Sequence[str]) -> int:
    """Remove pictures and their files; the number removed."""
    if not ids:
        return 0
    async with storage.transaction():
        await storage.execute(sa.delete(media_files).where(media_files.c.media_id.in_(list(ids))))
        result = await storage.execute(sa.delete(media).where(media.c.id.in_(list(ids))))
    return int(result or len(ids))
