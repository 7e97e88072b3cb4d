"""The rendering cache under writes and abuse: one build per key, keys from the parameters an
answer depends on, a budget in bytes, gzip off the event loop."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from calendar_service import cache as cache_module
from calendar_service.app import create_app
from calendar_service.cache import Rendered, RenderedCache, VersionClock
from calendar_service.digests import BlockCache
from calendar_service.errors import NotFound
from calendar_service.settings import Settings
from calendar_service.web.cached import canonical_query
from tests.conftest import make_settings
from tests.factories import create


class FixedClock(VersionClock):
    """A version set by the test instead of read from a database."""

    def __init__(self) -> None:
        super().__init__()
        self.version = 1

    async def current(self, storage: Any) -> int:
        return self.version


def _entry(version: int, body: bytes) -> Rendered:
    return Rendered.build(
        version=version,
        body=body,
        last_modified=datetime(2027, 1, 1, tzinfo=UTC),
        headers={"Content-Type": "text/plain"},
    )


def test_concurrent_requests_for_a_stale_entry_wait_for_one_build() -> None:
    clock = FixedClock()
    cache = RenderedCache(clock, budget_bytes=10_000_000)
    builds: list[int] = []

    async def build(version: int) -> Rendered:
        builds.append(version)
        await asyncio.sleep(0.05)
        return _entry(version, b"feed v%d" % version)

    async def main() -> None:
        first = await cache.get(None, "feed", build)  # type: ignore[arg-type]
        assert first.body == b"feed v1"
        clock.version = 2  # a write
        found = await asyncio.gather(*(cache.get(None, "feed", build) for _ in range(64)))  # type: ignore[arg-type]
        assert {entry.body for entry in found} == {b"feed v2"}

    asyncio.run(main())
    assert builds == [1, 2]


def test_a_client_that_goes_away_does_not_cancel_the_build_for_the_others() -> None:
    clock = FixedClock()
    cache = RenderedCache(clock)
    builds: list[int] = []

    async def build(version: int) -> Rendered:
        builds.append(version)
        await asyncio.sleep(0.05)
        return _entry(version, b"body")

    async def main() -> None:
        leaving = asyncio.ensure_future(cache.get(None, "k", build))  # type: ignore[arg-type]
        staying = asyncio.ensure_future(cache.get(None, "k", build))  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        leaving.cancel()
        assert (await staying).body == b"body"

    asyncio.run(main())
    assert builds == [1]


def test_a_failed_build_answers_every_waiter_and_is_not_kept() -> None:
    cache = RenderedCache(FixedClock())

    async def build(version: int) -> Rendered:
        await asyncio.sleep(0.01)
        raise NotFound("no such event")

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(cache.get(None, "gone", build) for _ in range(5)),  # type: ignore[arg-type]
            return_exceptions=True,
        )

    results = asyncio.run(main())
    assert all(isinstance(r, NotFound) for r in results)
    assert len(cache) == 0


def test_the_cache_keeps_within_its_budget_in_bytes() -> None:
    cache = RenderedCache(FixedClock(), budget_bytes=100_000)

    async def main() -> None:
        for i in range(50):

            async def build(version: int, i: int = i) -> Rendered:
                return _entry(version, bytes([i % 256]) * 10_000)

            await cache.get(None, f"entry-{i}", build)  # type: ignore[arg-type]
            assert cache.bytes <= cache.budget_bytes
        # The most recent entries stayed, the oldest went.
        assert await cache.peek(None, "entry-49") is not None  # type: ignore[arg-type]
        assert await cache.peek(None, "entry-0") is None  # type: ignore[arg-type]

        async def huge(version: int) -> Rendered:
            return _entry(version, b"x" * 200_000)

        served = await cache.get(None, "huge", huge)  # type: ignore[arg-type]
        assert len(served.body) == 200_000  # served, but not kept
        assert await cache.peek(None, "huge") is None  # type: ignore[arg-type]

    asyncio.run(main())
    assert 0 < cache.bytes <= 100_000


def test_gzip_of_a_large_body_runs_once_and_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []
    original = cache_module._compress

    def compress(body: bytes) -> bytes:
        threads.append(threading.current_thread().name)
        return original(body)

    monkeypatch.setattr(cache_module, "_compress", compress)
    cache = RenderedCache(FixedClock())

    async def main() -> None:
        async def build(version: int) -> Rendered:
            return _entry(version, b"BEGIN:VEVENT\r\n" * 50_000)

        entry = await cache.get(None, "big", build)  # type: ignore[arg-type]
        before = cache.bytes
        bodies = await asyncio.gather(*(entry.gzipped() for _ in range(10)))
        assert len(set(bodies)) == 1
        assert cache.bytes == before + len(bodies[0])  # its gzip form counts too

    asyncio.run(main())
    assert len(threads) == 1 and threads[0] != threading.main_thread().name


def test_blocks_keep_within_their_budget(migrated: Settings, tokens: dict[str, str]) -> None:
    settings = make_settings(migrated.database_url, block_cache_bytes=100_000)
    editor = {"Authorization": f"Bearer {tokens['editor']}"}
    with TestClient(create_app(settings)) as client:
        made = [create(client, editor, description="Un long texte. " * 400) for _ in range(12)]
        for event in made:
            for fmt in ("html", "txt", "md"):
                assert client.get(f"/newsletter/events/{event['id']}.{fmt}").status_code == 200
        blocks: BlockCache = client.app.state.blocks  # type: ignore[attr-defined]
        assert 0 < blocks.bytes <= 100_000
        assert 0 < len(blocks._blocks) < 36


@pytest.mark.parametrize(
    ("path", "a", "b"),
    [
        ("/feeds/agenda.ics", "tag=B,a&tag=a&lang=en", "lang=en&tag=a,b"),
        ("/feeds/agenda.ics", "cb=1&category=concert", "category=concert&cb=2"),
        ("/feeds/agenda.ics", "lang=fr&lang=en", "lang=en"),
        ("/events/12.ics", "lang=en&utm_source=x", "lang=en"),
        (
            "/newsletter/agenda.html",
            "to=2027-05-31&from=2027-05-01",
            "from=2027-05-01&to=2027-05-31",
        ),
    ],
)
def test_a_query_has_one_spelling_in_the_cache(path: str, a: str, b: str) -> None:
    assert canonical_query(path, a) == canonical_query(path, b)


def test_unknown_parameters_make_no_new_entries(client: TestClient, editor: dict[str, str]) -> None:
    create(client, editor)
    cache: RenderedCache = client.app.state.rendered  # type: ignore[attr-defined]
    first = client.get("/feeds/agenda.ics")
    entries = len(cache)
    for n in range(60):
        response = client.get(f"/feeds/agenda.ics?cb={n}&utm_campaign=x{n}")
        assert response.status_code == 200
        assert response.headers["etag"] == first.headers["etag"]
    assert len(cache) == entries
    # A made-up language on the event page shows the default one, from the same entry.
    event = client.get("/api/events").json()["items"][0]
    client.get(f"/events/{event['slug']}")
    entries = len(cache)
    for n in range(20):
        assert client.get(f"/events/{event['slug']}?lang=x{n}").status_code == 200
    assert len(cache) == entries


def test_the_event_page_is_cached_and_follows_writes(
    client: TestClient, editor: dict[str, str]
) -> None:
    made = create(client, editor)
    page = client.get(f"/events/{made['slug']}")
    assert page.status_code == 200
    assert "Concert solidaire" in page.text
    again = client.get(f"/events/{made['slug']}", headers={"if-none-match": page.headers["etag"]})
    assert again.status_code == 304
    assert "content-security-policy" in again.headers
    changed = client.patch(
        f"/api/events/{made['id']}", json={"title": "Bal folk solidaire"}, headers=editor
    )
    assert changed.status_code == 200
    after = client.get(f"/events/{made['slug']}", headers={"if-none-match": page.headers["etag"]})
    assert after.status_code == 200
    assert "Bal folk solidaire" in after.text
