"""``POST /api/media``: an editor uploads a picture (the file as the body, or a form's ``file``
field); the answer gives its id, to put in an event's ``image.media``, and the URLs of its
files. ``GET /api/media/{id}`` tells the same of a stored picture."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.db.media import MediaRecord
from calendar_service.errors import BadRequest, NotFound, PayloadTooLarge, ValidationFailed
from calendar_service.media.sizes import (
    CENTRE,
    CROPS,
    crop_name,
    responsive_widths,
    size_at,
)
from calendar_service.media.uploads import keep_from_url, keep_upload
from calendar_service.settings import Settings
from calendar_service.web.api.auth import require_role
from calendar_service.web.inputs import read_json, read_within
from calendar_service.web.responses import json_response

FORM_TYPES = ("multipart/form-data",)


async def read_upload(request: Request, *, max_bytes: int) -> bytes:
    """The uploaded file: the body itself, or the ``file`` field of a multipart form; 413 past
    ``max_bytes`` (counted as it arrives, whatever Content-Length says), 400 when absent."""
    # Room for a form's boundaries and fields; the picture itself is checked below.
    body = await read_within(
        request,
        max_bytes + 64_000,
        too_large=f"the picture is over {max_bytes} bytes, the most accepted",
    )
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in FORM_TYPES:
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"the picture is over {max_bytes} bytes, the most accepted")
        return body
    request._body = body  # the form parser reads the body already read
    try:
        form = await request.form(max_files=1, max_fields=20)
    except Exception as exc:  # python-multipart's errors: a malformed form
        raise BadRequest(f"the form cannot be read: {str(exc)[:120]}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest("send the picture in the form's `file` field")
    data = await upload.read()
    await form.close()
    return data


def media_json(
    record: MediaRecord, base_url: str, focus: tuple[int, int] = CENTRE
) -> dict[str, Any]:
    """What the API says of a stored picture: its id, size and the URLs of its files."""
    root = f"{base_url}/media/{record.id}"
    widths = responsive_widths(record.width)
    return {
        "id": record.id,
        "width": record.width,
        "height": record.height,
        "source_type": record.source_type,
        "files": {
            "webp": [
                _file(root, f"{w}.webp", *size_at(record.width, record.height, w)) for w in widths
            ],
            "jpeg": [
                _file(root, f"{w}.jpg", *size_at(record.width, record.height, w)) for w in widths
            ],
            "mail": _file(root, "mail.jpg", *size_at(record.width, record.height, 560)),
            "crops": {
                ratio: _file(root, crop_name(ratio, focus), *CROPS[ratio]) for ratio in CROPS
            },
        },
    }


def _file(root: str, name: str, width: int, height: int) -> dict[str, Any]:
    return {"url": f"{root}/{name}", "width": width, "height": height}


async def upload_media(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    await require_role(request, "editor")
    state = request.app.state
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":  # {"url": "https://…"}: fetched once, then ours
        asked = await read_json(request, max_bytes=10_000)
        url = asked.get("url") if isinstance(asked, dict) else None
        if not isinstance(url, str) or not url.strip():
            raise ValidationFailed(
                'send the picture\'s address as {"url": "https://…"}',
                errors=[{"field": "url", "message": "required"}],
            )
        record, new = await keep_from_url(
            state.media,
            state.image_work,
            url.strip(),
            max_bytes=settings.media_max_bytes,
            max_pixels=settings.media_max_pixels,
            allow_local=settings.media_fetch_local,
        )
    else:
        data = await read_upload(request, max_bytes=settings.media_max_bytes)
        record, new = await keep_upload(
            state.media,
            state.image_work,
            data,
            max_bytes=settings.media_max_bytes,
            max_pixels=settings.media_max_pixels,
        )
    body = media_json(record, settings.base_url)
    location = f"{settings.base_url}/api/media/{record.id}"
    return json_response(body, 201 if new else 200, {"Location": location})


async def get_media(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    await require_role(request, "editor")
    media_id = request.path_params["media_id"]
    record = await request.app.state.media.find(media_id) if _is_id(media_id) else None
    if record is None:
        raise NotFound(f"no picture {media_id[:40]!r}")
    return json_response(media_json(record, settings.base_url))


def _is_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


routes = [
    Route("/api/media", upload_media, methods=["POST"]),
    Route("/api/media/{media_id}", get_media, methods=["GET"]),
]
