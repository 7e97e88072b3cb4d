"""``GET /media/{id}/{file}``: the files made from uploaded pictures, from the service's own
origin, at content-addressed URLs (the id is the upload's hash; a file's name says what it is),
so they are cached for a year as immutable, with an ETag and 304. Never behind a session; the
clean master is never served. Every process reads the same files from the database; each keeps
the most asked ones in memory, within a byte budget, read once per file however many ask."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.db.media import StoredFile
from calendar_service.errors import NotFound
from calendar_service.media.store import MediaStore

ID = re.compile(r"^[0-9a-f]{32}$")
NAME = re.compile(
    r"^(?:(?:[1-9][0-9]{0,3})\.(?:webp|jpg)|mail\.jpg|(?:social|1x1|4x3|16x9)-(?:100|[1-9]?[0-9])-(?:100|[1-9]?[0-9])\.jpg)$"
)
IMMUTABLE = "public, max-age=31536000, immutable"


class FileCache:
    """Files by (id, name), least recently used out past ``budget`` bytes; one read per key."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._files: OrderedDict[tuple[str, str], StoredFile] = OrderedDict()
        self._reading: dict[tuple[str, str], asyncio.Future[StoredFile | None]] = {}

    async def get(self, store: MediaStore, media_id: str, name: str) -> StoredFile | None:
        key = (media_id, name)
        found = self._files.get(key)
        if found is not None:
            self._files.move_to_end(key)
            return found
        if key in self._reading:
            return await asyncio.shield(self._reading[key])
        future: asyncio.Future[StoredFile | None] = asyncio.get_running_loop().create_future()
        self._reading[key] = future
        try:
            found = await store.read_file(media_id, name)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when none waits
            raise
        finally:
            self._reading.pop(key, None)
        future.set_result(found)
        if found is not None and len(found.data) <= self.budget // 8:
            self._files[key] = found
            self.size += len(found.data)
            while self.size > self.budget:
                _, old = self._files.popitem(last=False)
                self.size -= len(old.data)
        return found


def _headers(etag: str) -> dict[str, str]:
    return {
        "Cache-Control": IMMUTABLE,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",  # partner sites show our cards
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }


async def media_file(request: Request) -> Response:
    media_id, name = request.path_params["media_id"], request.path_params["name"]
    if not ID.match(media_id) or not NAME.match(name):
        raise NotFound("no such picture file")
    etag = f'"{media_id}-{name}"'
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=_headers(etag))
    found = await request.app.state.media_files.get(request.app.state.media, media_id, name)
    if found is None:
        raise NotFound("no such picture file")
    body = b"" if request.method == "HEAD" else found.data
    headers = _headers(etag)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(found.data))
    return Response(body, headers=headers, media_type=found.content_type)


routes = [Route("/media/{media_id}/{name}", media_file, methods=["GET", "HEAD"])]
