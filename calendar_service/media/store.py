"""Where pictures are kept: a small interface, so that an object store could keep them later,
and the one implementation today, the service's database (every process reads the same)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from calendar_service.db import media as rows
from calendar_service.db.connection import Storage
from calendar_service.db.media import MediaRecord, StoredFile


class MediaStore(Protocol):
    """Pictures and their files, by id (the upload's hash) and file name."""

    async def find(self, media_id: str) -> MediaRecord | None: ...

    async def find_many(self, ids: Sequence[str]) -> dict[str, MediaRecord]: ...

    async def insert(self, record: MediaRecord, files: Sequence[StoredFile]) -> bool: ...

    async def add_files(self, media_id: str, files: Sequence[StoredFile]) -> None: ...

    async def file_names(self, media_id: str) -> list[str]: ...

    async def read_file(self, media_id: str, name: str) -> StoredFile | None: ...

    async def unused(self, *, created_before_us: int) -> list[str]: ...

    async def delete(self, ids: Sequence[str]) -> int: ...


class DatabaseMediaStore:
    """Pictures in the service's database (tables ``media`` and ``media_files``)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def find(self, media_id: str) -> MediaRecord | None:
        return await rows.find(self.storage, media_id)

    async def find_many(self, ids: Sequence[str]) -> dict[str, MediaRecord]:
        return await rows.find_many(self.storage, ids)

    async def insert(self, record: MediaRecord, files: Sequence[StoredFile]) -> bool:
        return await rows.insert(self.storage, record, files)

    async def add_files(self, media_id: str, files: Sequence[StoredFile]) -> None:
        await rows.add_files(self.storage, media_id, files)

    async def file_names(self, media_id: str) -> list[str]:
        return await rows.file_names(self.storage, media_id)

    async def read_file(self, media_id: str, name: str) -> StoredFile | None:
        return await rows.read_file(self.storage, media_id, name)

    async def unused(self, *, created_before_us: int) -> list[str]:
        return await rows.unused(self.storage, created_before_us=created_before_us)

    async def delete(self, ids: Sequence[str]) -> int:
        return await rows.delete(self.storage, ids)
