"""Keeping uploaded pictures: checked, cleaned and turned into their files in a thread (never on
the event loop; a few at a time), stored once per content, and given to events.

An event's ``image`` names either a URL (a picture elsewhere, as before) or ``media``, the id
``POST /api/media`` answered; for the latter the service fills in the picture's size and makes
the crops around the event's focal point, so that renderers need nothing but the event.
"""

from __future__ import annotations

import asyncio
from typing import Any

from calendar_service.db.events import now_us
from calendar_service.db.media import MediaRecord, StoredFile
from calendar_service.errors import BadRequest, PayloadTooLarge, ValidationFailed
from calendar_service.fetch import FetchError, fetch_picture
from calendar_service.media import images
from calendar_service.media.sizes import CENTRE, CROPS, crop_name
from calendar_service.media.store import MediaStore


class ImageWork:
    """At most ``parallel`` pictures decoded at once per process: each may take a few hundred
    megabytes and most of a core for a second; the others wait their turn."""

    def __init__(self, parallel: int = 2) -> None:
        self._slots = asyncio.Semaphore(parallel)

    async def run(self, function: Any, *args: Any) -> Any:
        async with self._slots:
            return await asyncio.to_thread(function, *args)


def _files(pictures: list[images.Picture]) -> list[StoredFile]:
    return [StoredFile(p.name, p.content_type, p.width, p.height, p.data) for p in pictures]


def _process(data: bytes, max_pixels: int) -> tuple[images.Cleaned, list[images.Picture]]:
    cleaned = images.clean(data, max_pixels=max_pixels)
    made = [
        cleaned.master,
        *images.variants(cleaned.pixels),
        *images.crops(cleaned.pixels, CENTRE),
    ]
    return cleaned, made


async def keep_upload(
    store: MediaStore,
    work: ImageWork,
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    source_url: str | None = None,
) -> tuple[MediaRecord, bool]:
    """The stored picture made from ``data`` and whether it is new (the same file uploaded twice
    is stored once). 413 past ``max_bytes``; 415 or 422 naming what is wrong with the file;
    nothing is stored unless every file of the picture is."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the picture is {len(data)} bytes; at most {max_bytes} are accepted")
    if not data:
        raise BadRequest("the picture is empty")
    found = await store.find(images.media_id(data))
    if found is not None:
        return found, False
    images.sniff(data)  # a file of another kind is refused before waiting for a slot
    cleaned, made = await work.run(_process, data, max_pixels)
    record = MediaRecord(
        id=cleaned.media_id,
        created_us=now_us(),
        source_type=cleaned.source_type,
        source_bytes=len(data),
        source_url=source_url,
        width=cleaned.width,
        height=cleaned.height,
        has_alpha=cleaned.has_alpha,
    )
    if await store.insert(record, _files(made)):
        return record, True
    stored = await store.find(record.id)  # stored meanwhile by another request: that one
    return (stored or record), False


async def ensure_crops(
    store: MediaStore, work: ImageWork, media_id: str, focus: tuple[int, int]
) -> None:
    """Make the crops of picture ``media_id`` around ``focus`` unless they exist."""
    names = set(await store.file_names(media_id))
    wanted = [ratio for ratio in CROPS if crop_name(ratio, focus) not in names]
    if not wanted:
        return
    master = await store.read_file(media_id, "master")
    if master is None:
        return
    made = await work.run(images.crops_of_master, master.data, focus, wanted)
    await store.add_files(media_id, _files(made))


def focus_of(image: dict[str, Any] | None) -> tuple[int, int]:
    """An event image's focal point (percentages across and down; the centre by default)."""
    focus = (image or {}).get("focus")
    if isinstance(focus, (list, tuple)) and len(focus) == 2:
        return int(focus[0]), int(focus[1])
    return CENTRE


async def prepare_image(store: MediaStore, work: ImageWork, image: Any) -> dict[str, Any] | None:
    """An event's ``image`` as a client sent it, checked against the stored pictures before the
    event is written: 422 for a picture that is not stored; the crops around its focal point
    made (outside any transaction). Returns the image with the picture's true size, or the
    image as it was when it names a URL (or is not an object: validation says why later)."""
    if not isinstance(image, dict) or not isinstance(image.get("media"), str):
        return image if isinstance(image, dict) else None
    record = await store.find(image["media"])
    if record is None:
        raise unknown_picture()
    await ensure_crops(store, work, record.id, focus_of(image))
    return {**image, "width": record.width, "height": record.height}


def unknown_picture() -> ValidationFailed:
    """The error for an event image naming a picture that is not stored."""
    return ValidationFailed(
        "image.media names no stored picture",
        errors=[
            {
                "field": "image.media",
                "message": "no such picture: upload it first (POST /api/media) and use the id "
                "it answers",
            }
        ],
    )


async def keep_from_url(
    store: MediaStore,
    work: ImageWork,
    url: str,
    *,
    max_bytes: int,
    max_pixels: int,
    allow_local: bool,
) -> tuple[MediaRecord, bool]:
    """A picture found at ``url``, fetched once (in a thread: https only, public addresses only
    unless ``allow_local``, within the size and time limits) and kept as an upload is; 422
    naming why it could not be fetched, 415/422 for what it turned out to be."""
    try:
        data = await asyncio.to_thread(
            fetch_picture, url, max_bytes=max_bytes, allow_local=allow_local
        )
    except FetchError as exc:
        raise ValidationFailed(
            f"the picture could not be fetched: {exc}",
            errors=[{"field": "url", "message": str(exc)}],
        ) from None
    return await keep_upload(
        store, work, data, max_bytes=max_bytes, max_pixels=max_pixels, source_url=url[:2000]
    )
