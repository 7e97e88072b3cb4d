"""Hostile requests against a real server, one class per fault an outside test found: none
gives a 5xx, and none holds the event loop (``/healthz`` answers within a second while they
run). On SQLite and PostgreSQL.

Elsewhere: the rate limits under concurrent bursts (``test_limits.py``) and across processes
(``test_topology.py``), the caches' single builds and budgets (``test_cache.py``), the accepted
time zones (``test_zones.py``), the recurrence bounds (``test_recurrence_engine.py``), hostile
import files (``test_import*.py``).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import feedparser
import pytest
import sqlalchemy as sa
import uvicorn
import vobject
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from calendar_service.app import create_app
from calendar_service.cli import main
from calendar_service.db.connection import Storage
from calendar_service.db.tables import events
from tests.conftest import DATABASE_KINDS, make_settings, throwaway_database
from tests.factories import event_payload
from tests.servers import TOKEN, Server, free_port, on_database

# What "the loop is free" means here: generous, since this is about a stall, not speed.
FREE_LOOP_S = 1.0
NEVER = [
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
    "FREQ=DAILY;BYMONTHDAY=31;BYMONTH=9,11",
    "FREQ=MONTHLY;BYDAY=5MO;BYMONTH=2;BYMONTHDAY=1,2,3",
    "FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1",
]


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with throwaway_database(request.param, tmp_path_factory.mktemp("hostile")) as url:
        yield url


class Service:
    """A real server on a fresh database, an editor's token, and a way to watch its loop."""

    def __init__(self, server: Server, token: str) -> None:
        self.server = server
        self.editor = {"Authorization": f"Bearer {token}"}

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            sent = {**(headers or {})}
            data = raw
            if body is not None:
                data = json.dumps(body).encode()
                sent.setdefault("Content-Type", "application/json")
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            answer = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
        finally:
            connection.close()

    def create(self, **fields: Any) -> dict[str, Any]:
        status, _, body = self.request("POST", "/api/events", event_payload(**fields), self.editor)
        assert status == 201, body
        return json.loads(body)  # type: ignore[no-any-return]

    def statuses_in_log(self) -> list[int]:
        return [int(line["status"]) for line in self.server.lines() if "status" in line]  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def service(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    runner = CliRunner()
    assert runner.invoke(main, [*on_database(database), "migrate"]).exit_code == 0
    made = runner.invoke(main, [*on_database(database), "token", "create", "--name", "hostile"])
    server = Server(
        tmp_path_factory.mktemp("hostile-server"),
        database,
        workers=1,
        environment={"CALENDAR_CACHE_BYTES": "8000000", "CALENDAR_PROPOSALS_PER_HOUR": "5"},
    )
    try:
        server.wait_ready()
        yield Service(server, made.stdout.strip())
        # Whatever ran against it: not one answer of the whole module was a 5xx.
        assert [s for s in Service(server, "").statuses_in_log() if s >= 500] == []
    finally:
        server.stop()


class LoopWatch:
    """Asks ``/healthz`` every 50 ms on a new connection, and keeps the slowest answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.slowest = 0.0
        self.asked = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            connection.request("GET", "/healthz")
            assert connection.getresponse().status == 200
            connection.close()
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.asked += 1
            self._stop.wait(0.05)

    def __enter__(self) -> LoopWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def _concurrently(work: Callable[[int], Any], n: int) -> list[Any]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(work, range(n)))


# --- recurrence ---------------------------------------------------------------------------


def test_rules_that_never_happen_are_refused_without_holding_the_loop(service: Service) -> None:
    def propose(i: int) -> int:
        proposal = event_payload(recurrence={"rrule": NEVER[i % len(NEVER)]})
        for name in ("url", "organizer", "partners"):
            proposal.pop(name)
        status, _, body = service.request(
            "POST", "/api/proposals", proposal, {"X-Forwarded-For": f"192.0.2.{i}"}
        )
        if status == 422:
            assert b"recurrence.rrule" in body
        return status

    with LoopWatch(service.server.port) as watch:
        statuses = _concurrently(propose, 12)
        for rule in NEVER:  # and from an editor
            status, _, body = service.request(
                "POST", "/api/events", event_payload(recurrence={"rrule": rule}), service.editor
            )
            assert status == 422, body
    assert set(statuses) == {422}
    assert watch.asked > 0 and watch.slowest < FREE_LOOP_S


def test_dense_rules_are_refused_and_old_series_cost_their_window(service: Service) -> None:
    for rule in (
        "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(24)) + ";BYMINUTE=0,15,30,45",
        "FREQ=DAILY;BYHOUR=8,9,10,11,12,13,14,15,16,17,18,19;BYMINUTE=0,30;BYSECOND=0,30",
        "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(24)),
    ):
        status, _, body = service.request(
            "POST",
            "/api/events",
            event_payload(start="2027-05-06T00:00:00", end=None, recurrence={"rrule": rule}),
            service.editor,
        )
        assert status == 422 and b"dates a" in body, body
    # A drop-in session every day since 1901, asked about at the far end of time.
    old = service.create(
        title="Permanence quotidienne",
        start="1901-01-01T09:00:00",
        end="1901-01-01T12:00:00",
        recurrence={"rrule": "FREQ=DAILY"},
    )
    with LoopWatch(service.server.port) as watch:
        for year in (2150, 2199):
            status, _, body = service.request(
                "GET", f"/api/occurrences?from={year}-01-01&to={year}-03-01&limit=500"
            )
            assert status == 200
            mine = [o for o in json.loads(body)["items"] if o["event_id"] == old["id"]]
            assert len(mine) == 59
    assert watch.slowest < FREE_LOOP_S


# --- time zones ------------------------------------------------------------------------------


def _store_bad_zone(database: str, event_id: int, name: str) -> None:
    """What an older version let in: the zone is written in the database directly."""

    async def work() -> None:
        storage = Storage(database)
        await storage.connect()
        try:
            row = await storage.fetch_one(
                sa.select(events.c.document).where(events.c.id == event_id)
            )
            assert row is not None
            document = json.loads(row["document"])
            document["timezone"] = name
            await storage.execute(
                events.update()
                .where(events.c.id == event_id)
                .values(document=json.dumps(document), timezone=name)
            )
            await storage.execute(sa.text("UPDATE service_state SET value = value + 1"))
        finally:
            await storage.disconnect()

    asyncio.run(work())


@pytest.mark.parametrize(
    "zone", ["Factory", "posix/Europe/Paris", "localtime", "right/Europe/Paris"]
)
def test_one_event_with_a_bad_zone_breaks_no_shared_page(
    service: Service, database: str, zone: str
) -> None:
    soon = (date.today() + timedelta(days=5)).isoformat()
    good = service.create(title=f"Bon {zone}", start=f"{soon}T18:30:00", end=f"{soon}T20:00:00")
    bad = service.create(title=f"Mauvais {zone}", start=f"{soon}T19:00:00", end=f"{soon}T21:00:00")
    _store_bad_zone(database, bad["id"], zone)
    time.sleep(1.2)  # the server reads the content version again at most once a second
    for path in (
        "/",
        "/?lang=en",
        "/embed/agenda?limit=50",
        "/feeds/agenda.ics",
        "/feeds/agenda.rss",
        "/feeds/agenda.json",
        "/newsletter/agenda.html",
        "/newsletter/agenda.txt",
        "/newsletter",
        "/api/events",
        f"/api/occurrences?from={soon}&to={soon}T23:59:00",
    ):
        status, _, body = service.request("GET", path)
        assert status == 200, (path, body[:300])
        assert f"Bon {zone}".encode() in body, path
    for path in (
        f"/events/{bad['slug']}",
        f"/events/{bad['slug']}.ics",
        f"/newsletter/events/{bad['slug']}.html",
        f"/api/events/{bad['id']}",
    ):
        status, _, _ = service.request("GET", path)
        assert status < 500, path
    assert good["id"] != bad["id"]


def test_zones_calendars_do_not_share_are_refused_everywhere(service: Service) -> None:
    for zone in ("Factory", "localtime", "posixrules", "posix/Europe/Paris", "right/UTC"):
        status, _, body = service.request(
            "POST", "/api/events", event_payload(timezone=zone), service.editor
        )
        assert status == 422 and json.loads(body)["errors"][0]["field"] == "timezone"


# --- escaping -----------------------------------------------------------------------------


def test_line_breaks_in_a_title_forge_nothing_in_a_calendar_file(service: Service) -> None:
    title = "Concert\rBEGIN:VEVENT\nUID:forged\u2028SUMMARY:forged\r\nEND:VEVENT"
    made = service.create(title=title)
    assert "\r" not in made["title"]["fr"] and "\n" not in made["title"]["fr"]
    status, _, body = service.request("GET", f"/events/{made['slug']}.ics")
    assert status == 200
    calendar = vobject.readOne(body.decode())
    assert len(list(calendar.vevent_list)) == 1
    assert calendar.vevent.uid.value == made["uid"]
    assert calendar.contents["name"][0].value == made["title"]["fr"]
    lines = body.decode().split("\r\n")
    assert sum(line == "BEGIN:VEVENT" for line in lines) == 1
    assert not any(line.startswith("UID:forged") for line in lines)


def test_rss_titles_read_as_plain_text(service: Service) -> None:
    soon = (date.today() + timedelta(days=7)).isoformat()
    title = "<script>alert(1)</script> & <b>gras</b> &amp; <!-- x -->"
    service.create(title=title, start=f"{soon}T18:30:00", end=None)
    time.sleep(1.2)
    status, _, body = service.request("GET", "/feeds/agenda.rss")
    assert status == 200
    parsed = feedparser.parse(body)
    (entry,) = [e for e in parsed.entries if "alert(1)" in e.title]
    assert entry.title_detail.type == "text/plain"
    assert entry.title.replace("\u200b", "") == title
    assert "<script" not in entry.title and "<b>" not in entry.title


# --- Markdown -------------------------------------------------------------------------------


def test_descriptions_made_to_be_slow_do_not_hold_the_loop(service: Service) -> None:
    made = [
        service.create(description=text)
        for text in ("![" * 10_000, "[a](" * 5_000, "*a" * 10_000, "_" * 20_000)
    ]
    with LoopWatch(service.server.port) as watch:

        def page(i: int) -> int:
            return service.request("GET", f"/events/{made[i % len(made)]['slug']}")[0]

        assert set(_concurrently(page, 8)) == {200}
        # As much of it as a proposal's body limit (20 kB) lets through.
        proposal = {"title": "Proposé", "start": "2027-06-01T18:00:00", "description": "![" * 9_500}
        status, _, _ = service.request(
            "POST", "/api/proposals", proposal, {"X-Forwarded-For": "198.51.100.77"}
        )
        assert status == 202
    assert watch.slowest < FREE_LOOP_S


# --- pictures and print ----------------------------------------------------------------------


def test_heavy_pictures_bombs_and_pdfs_do_not_hold_the_loop(service: Service) -> None:
    """Large photos (decoded and made into a dozen files each), decompression bombs, damaged
    files and programmes to print, all at once: the loop stays free, every answer is the one
    documented, nothing is a 5xx."""
    from io import BytesIO

    from PIL import Image

    def encoded(image: Image.Image, kind: str, **options: Any) -> bytes:
        out = BytesIO()
        image.save(out, kind, **options)
        return out.getvalue()

    photos = [
        encoded(Image.effect_noise((4000, 3000), 40 + i).convert("RGB"), "JPEG", quality=85)
        for i in range(3)
    ]
    bomb = encoded(Image.new("1", (12_000, 12_000)), "PNG")
    damaged = photos[0][: len(photos[0]) // 3]
    for _ in range(3):
        service.create()

    def work(i: int) -> int:
        kind = i % 4
        if kind == 3:
            return service.request("GET", f"/print/agenda.pdf?lang={'fr' if i % 8 == 3 else 'en'}")[
                0
            ]
        data = (photos[i % 3], bomb, damaged)[kind]
        headers = {**service.editor, "Content-Type": "image/jpeg"}
        return service.request("POST", "/api/media", headers=headers, raw=data)[0]

    with LoopWatch(service.server.port) as watch:
        statuses = _concurrently(work, 12)
    assert sorted(set(statuses)) == [200, 201, 422]
    assert watch.asked > 0 and watch.slowest < FREE_LOOP_S


# --- caches ---------------------------------------------------------------------------------


def _metric(service: Service, name: str, **labels: str) -> float:
    _, _, text = service.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    return sum(
        sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def test_after_a_write_concurrent_requests_for_a_feed_share_one_build(service: Service) -> None:
    made = service.create()
    service.request("GET", "/feeds/culture.ics")
    builds = _metric(service, "calendar_cache_builds_total", cache="rendered")
    status, _, _ = service.request(
        "PATCH", f"/api/events/{made['id']}", {"price": "10 €"}, service.editor
    )
    assert status == 200

    def fetch(i: int) -> tuple[int, str]:
        status, headers, _ = service.request(
            "GET", "/feeds/culture.ics", headers={"Accept-Encoding": "identity"}
        )
        return status, headers["etag"]

    answers = _concurrently(fetch, 64)
    assert {status for status, _ in answers} == {200}
    assert len({etag for _, etag in answers}) == 1
    assert _metric(service, "calendar_cache_builds_total", cache="rendered") - builds == 1


def _rss_bytes(service: Service) -> int:
    """The server's resident memory (one worker: uvicorn runs in the process itself)."""
    status = Path(f"/proc/{service.server.process.pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert found
    return int(found.group(1)) * 1024


def test_made_up_parameters_cannot_grow_the_cache(service: Service) -> None:
    for n in range(40):
        service.create(title=f"Concert n°{n}", description="Un texte. " * 200)
    service.request("GET", "/feeds/agenda.ics")
    entries = _metric(service, "calendar_cache_bytes", cache="rendered")
    before = _rss_bytes(service)
    for n in range(600):
        assert service.request("GET", f"/feeds/agenda.ics?cb={n}&utm_source=x{n}")[0] == 200
    assert _metric(service, "calendar_cache_bytes", cache="rendered") == entries
    # Queries that do make entries (the same words, spelt differently) stay within the budget.
    for n in range(128):
        word = "".join(c.upper() if n >> i & 1 else c for i, c in enumerate("concert"))
        assert service.request("GET", f"/feeds/agenda.ics?q={word}")[0] == 200
        assert _metric(service, "calendar_cache_bytes", cache="rendered") <= 8_000_000
    grown = _rss_bytes(service) - before
    assert grown < 8_000_000 * 2  # the budget, and the allocator's slack around it


# --- odd values -----------------------------------------------------------------------------


def test_odd_numbers_and_deep_bodies_are_refused_not_crashed(service: Service) -> None:
    made = service.create()
    # Written out by hand: the standard encoder would itself hit Python's recursion limit.
    deep = '{"a":' * 1_000 + '"x"' + "}" * 1_000
    cases = [
        ("GET", "/api/events?limit=²", None, None),
        ("GET", "/api/events?limit=٣", None, None),
        ("GET", "/api/events/²", None, None),
        ("GET", "/api/occurrences?limit=¹", None, None),
        ("GET", "/embed/agenda?limit=²", None, None),
        ("PATCH", f"/api/events/{made['id']}", '{"title": ' + deep + "}", service.editor),
        ("PATCH", f"/api/events/{made['id']}", "[" * 900 + "]" * 900, service.editor),
        ("POST", "/api/events", '{"title": "x", "location": ' + deep + "}", service.editor),
        (
            "POST",
            "/api/events",
            event_payload(recurrence={"rrule": "FREQ=DAILY;COUNT=²"}),
            service.editor,
        ),
        (
            "POST",
            "/api/events",
            event_payload(recurrence={"rrule": "FREQ=DAILY;INTERVAL=⁵"}),
            service.editor,
        ),
    ]
    for method, path, body, headers in cases:
        raw = body.encode() if isinstance(body, str) else None
        if raw is not None:
            headers = {**(headers or {}), "Content-Type": "application/json"}
        status, _, answer = service.request(
            method, quote(path, safe="/?=&"), None if raw else body, headers, raw=raw
        )
        # The API refuses them; the embed, a page, shows its default limit instead.
        assert 400 <= status < 500 or (path.startswith("/embed") and status == 200), (
            method,
            path,
            status,
            answer[:200],
        )
    proposal = event_payload(recurrence={"rrule": "FREQ=WEEKLY;COUNT=²"})
    status, _, _ = service.request(
        "POST", "/api/proposals", proposal, {"X-Forwarded-For": "203.0.113.99"}
    )
    assert status == 422
    # A Content-Length of Latin-1 digits.
    status, _, _ = service.request(
        "POST",
        "/api/events",
        headers={**service.editor, "Content-Type": "application/json", "Content-Length": "²"},
        raw=b"",
    )
    assert status < 500


def test_a_500_sent_whole_keeps_the_connection_alive(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'c.db'}")
    from calendar_service.db.connection import migrate

    migrate(settings.database_url)

    async def crash(request: Request) -> Response:
        raise RuntimeError("an unforeseen fault")

    async def fine(request: Request) -> Response:
        return PlainTextResponse("fine")

    app = create_app(settings)
    app.router.routes.extend([Route("/crash", crash), Route("/fine", fine)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/crash")
        crashed = connection.getresponse()
        assert crashed.status == 500 and b"logged" in crashed.read()
        first_socket = connection.sock
        connection.request("GET", "/fine")
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (200, b"fine")
        assert connection.sock is first_socket  # the same connection, not a new one
        connection.close()
    finally:
        server.should_exit = True
        thread.join(10)


def test_socket_level_garbage_gets_an_answer(service: Service) -> None:
    with socket.create_connection(("127.0.0.1", service.server.port), timeout=10) as raw:
        raw.sendall(b"GET /api/events/%FF%FE HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 4")
