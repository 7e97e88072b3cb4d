"""The production topology with local processes: two `calendar-service serve` processes on one
PostgreSQL database, behind nginx configured from deploy/nginx/calendar.conf.template (what
compose.yaml runs). Writes on one process show on the other and through the proxy; sessions and
limits hold across both; a killed process loses no acknowledged write; the proxy caches,
revalidates, and serves stale copies while the processes are down.

The processes and nginx are started once for the module; each test leaves them running."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import asyncpg
import httpx2 as httpx
import pytest
from click.testing import CliRunner

from calendar_service.cli import main
from tests.conftest import IN_CI, POSTGRES_SERVER
from tests.factories import event_payload
from tests.proxy import Proxy, fetch, nginx_binary
from tests.servers import TOKEN, Server, free_port, on_database

pytestmark = [pytest.mark.postgres, pytest.mark.topology]

# What the README promises: another process sees a write within a second or so (each process
# re-reads the content version at most once a second); the proxy keeps an answer fresh for
# FRESHNESS seconds (up to one more: nginx counts whole seconds), then revalidates it. The
# bounds asserted are generous on purpose.
PROCESS_INTERVAL_S = 1.0
FRESHNESS_S = 3.0
STALE_AFTER_S = FRESHNESS_S + 1.1
ACROSS_PROCESSES_BOUND_S = 3.0
THROUGH_PROXY_BOUND_S = PROCESS_INTERVAL_S + STALE_AFTER_S + 2.0
PROPOSALS_PER_HOUR = 5
ACCOUNT_LIMIT = 5
PASSWORD = "une phrase assez longue pour tester"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
PARIS = ZoneInfo("Europe/Paris")


def missing(reason: str) -> NoReturn:
    """Outside CI a missing PostgreSQL or nginx skips the module, saying so; in CI it fails."""
    if IN_CI:
        pytest.fail(reason + " (CI=true: the topology tests must run)")
    pytest.skip(reason)


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """One throwaway database for the module, dropped afterwards."""
    name = f"calendar_topology_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        missing(f"PostgreSQL not reachable at {POSTGRES_SERVER}: {exc}")
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Topology:
    a: Server
    b: Server
    proxy: Proxy
    editor: dict[str, str]  # Authorization header of an editor token

    def both_up(self) -> None:
        """Start again whichever process a test stopped, and wait until both are ready."""
        for server in (self.a, self.b):
            if server.process.poll() is not None:
                server.start()
        for server in (self.a, self.b):
            server.wait_ready()


def cli(url: str, *arguments: str, stdin: str | None = None) -> str:
    done = CliRunner().invoke(main, [*on_database(url), *arguments], input=stdin)
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.fixture(scope="module")
def topology(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if nginx_binary() is None:
        missing("nginx not installed (Debian: apt-get install --no-install-recommends nginx-light)")
    folder = tmp_path_factory.mktemp("topology")
    cli(postgres_url, "migrate")  # once, before the processes start (as compose's migrate)
    secret = cli(postgres_url, "token", "create", "--name", "topology", "--role", "editor")
    for email in ("ada@example.org", "grace@example.org"):
        cli(postgres_url, "user", "create", "--email", email, stdin=PASSWORD + "\n")
    proxy_port = free_port()
    settings = {
        "CALENDAR_PROPOSALS_PER_HOUR": str(PROPOSALS_PER_HOUR),
        # Both processes write the links of the address the public meets: the proxy's (left
        # unset, each would follow its own port and their files would differ).
        "CALENDAR_BASE_URL": f"http://127.0.0.1:{proxy_port}",
    }
    started: list[Server | Proxy] = []
    try:
        for name in ("a", "b"):  # started together, ready below
            started.append(Server(folder, postgres_url, 1, name=name, environment=settings))
        a, b = started
        assert isinstance(a, Server) and isinstance(b, Server)
        a.wait_ready()
        b.wait_ready()
        proxy = Proxy(folder / "nginx", (f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"), proxy_port)
        proxy.check()
        started.append(proxy)
        proxy.start()
        yield Topology(a, b, proxy, {"Authorization": f"Bearer {secret.strip()}"})
    finally:
        for running in reversed(started):
            running.stop()


def within(seconds: float, check: Callable[[], bool]) -> float:
    """Seconds until ``check()`` holds, polled every 50 ms; fails past ``seconds``."""
    began = time.monotonic()
    while not check():
        elapsed = time.monotonic() - began
        assert elapsed < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - began


def post_json(
    url: str, data: Any, headers: dict[str, str] | None = None, *, method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    status, _, body = fetch(
        url,
        {"Content-Type": "application/json", **(headers or {})},
        method=method,
        body=json.dumps(data).encode(),
    )
    # A 502 from nginx, for a request cut by a killed process, is a page, not JSON.
    return status, json.loads(body) if body.startswith(b"{") else {}


def text_of(url: str, headers: dict[str, str] | None = None) -> str:
    status, _, body = fetch(url, headers)
    return body.decode() if status == 200 else ""


# --- pictures ----------------------------------------------------------------------------------


def test_a_picture_uploaded_to_one_process_is_served_by_the_other_and_the_proxy(
    topology: Topology,
) -> None:
    """Pictures live in the database: a file uploaded through process a is served, byte for
    byte and with the same validators, by process b and by nginx; both answer 304."""
    from io import BytesIO

    from PIL import Image

    poster = BytesIO()
    Image.new("RGB", (700, 500), (uuid.uuid4().int % 255, 90, 160)).save(poster, "PNG")
    status, _, body = fetch(
        f"{topology.a.url}/api/media",
        {**topology.editor, "Content-Type": "image/png"},
        method="POST",
        body=poster.getvalue(),
    )
    assert status == 201, body[:300]
    sent = json.loads(body)
    path = f"/media/{sent['id']}/640.webp"
    answers = [fetch(base + path) for base in (topology.a.url, topology.b.url, topology.proxy.url)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert answers[0][2] == answers[1][2] == answers[2][2]
    assert Image.open(BytesIO(answers[1][2])).size == (640, 457)
    [etag] = {a[1]["etag"] for a in answers}
    for base in (topology.a.url, topology.b.url, topology.proxy.url):
        status, headers, _ = fetch(base + path, {"If-None-Match": etag})
        assert status == 304, base
        assert headers["cache-control"] == "public, max-age=31536000, immutable"


# --- writes propagate -------------------------------------------------------------------------


def test_a_write_on_one_process_shows_on_the_other_and_through_the_proxy(
    topology: Topology,
) -> None:
    a, b, proxy = topology.a, topology.b, topology.proxy
    feed = "/feeds/agenda.ics"
    # B's caches and the proxy's hold the feed before the write: what follows is their
    # invalidation, not a first build.
    for _ in range(2):
        assert fetch(b.url + feed)[0] == fetch(proxy.url + feed)[0] == 200
    assert fetch(proxy.url + feed)[1]["x-cache-status"] == "HIT"

    status, made = post_json(
        a.url + "/api/events", event_payload(title="Ciné-débat Propagation"), topology.editor
    )
    assert status == 201, made
    api, page = f"/api/events/{made['id']}", f"/events/{made['slug']}"
    seen = within(
        ACROSS_PROCESSES_BOUND_S,
        lambda: (
            made["uid"] in text_of(b.url + feed)
            and fetch(b.url + api)[0] == 200
            and "Ciné-débat Propagation" in text_of(b.url + page)
        ),
    )
    print(f"created on A, seen by B's feed, API and page in {seen:.2f} s")
    seen = within(
        THROUGH_PROXY_BOUND_S,
        lambda: (
            "Ciné-débat Propagation" in text_of(proxy.url + feed)
            and "Ciné-débat Propagation" in text_of(proxy.url + page)
        ),
    )
    print(f"created on A, seen through the proxy in {seen:.2f} s")

    # B and the proxy now hold the event; a change on A must replace what they hold.
    assert cache_status(proxy.url + feed) == cache_status(proxy.url + page) == "HIT"
    status, changed = post_json(
        a.url + api, {"title": "Ciné-débat Déplacé"}, topology.editor, method="PATCH"
    )
    assert status == 200, changed
    changed_at = time.monotonic()
    seen = within(
        ACROSS_PROCESSES_BOUND_S,
        lambda: (
            "Ciné-débat Déplacé" in text_of(b.url + feed)
            and json.loads(fetch(b.url + api)[2])["title"]["fr"] == "Ciné-débat Déplacé"
            and "Ciné-débat Déplacé" in text_of(b.url + page)
        ),
    )
    print(f"changed on A, seen by B's feed, API and page in {seen:.2f} s")
    within(
        THROUGH_PROXY_BOUND_S - (time.monotonic() - changed_at),
        lambda: (
            "Ciné-débat Déplacé" in text_of(proxy.url + feed)
            and "Ciné-débat Déplacé" in text_of(proxy.url + page)
        ),
    )
    print(f"changed on A, seen through the proxy in {time.monotonic() - changed_at:.2f} s")


# --- sessions and limits hold across processes -----------------------------------------------


def test_a_session_made_on_one_process_works_and_ends_on_the_other(topology: Topology) -> None:
    a, b = topology.a, topology.b
    with httpx.Client() as browser:  # one cookie jar for 127.0.0.1, whichever the port
        form = CSRF.search(browser.get(a.url + "/editor/login").text)
        assert form
        signed_in = browser.post(
            a.url + "/editor/login",
            data={"csrf_token": form.group(1), "email": "ada@example.org", "password": PASSWORD},
        )
        assert signed_in.status_code == 303, signed_in.text[:300]
        session = browser.cookies["calendar_session"]
        home = browser.get(b.url + "/editor")
        assert home.status_code == 200 and "ada@example.org" in home.text
        token = CSRF.search(home.text)
        assert token
        signed_out = browser.post(b.url + "/editor/logout", data={"csrf_token": token.group(1)})
        assert signed_out.status_code == 303
    after = httpx.get(
        a.url + "/editor", cookies={"calendar_session": session}, headers={"Accept": "text/html"}
    )
    assert after.status_code == 303 and "/editor/login" in after.headers["location"]


def proposal(n: int) -> dict[str, Any]:
    start = datetime.combine(
        datetime.now(PARIS).date() + timedelta(days=3), datetime.min.time()
    ).replace(hour=18, minute=30)
    data = event_payload(
        title=f"Proposition {n}",
        start=start.isoformat(),
        end=(start + timedelta(hours=2)).isoformat(),
    )
    return {**data, "proposer": {"name": "Camille", "email": "camille@example.org"}}


def test_a_burst_of_proposals_on_both_processes_stores_no_more_than_the_limit(
    topology: Topology,
) -> None:
    a, b = topology.a, topology.b
    targets = [a.url, b.url] * 6

    def propose(i: int) -> int:
        return post_json(targets[i] + "/api/proposals", proposal(i))[0]

    with ThreadPoolExecutor(len(targets)) as pool:
        statuses = list(pool.map(propose, range(len(targets))))
    assert sorted(statuses) == [202] * PROPOSALS_PER_HOUR + [429] * (
        len(targets) - PROPOSALS_PER_HOUR
    )
    status, _, body = fetch(b.url + "/api/events?state=pending&limit=100", topology.editor)
    assert status == 200
    assert len(json.loads(body)["items"]) == PROPOSALS_PER_HOUR


def test_failed_sign_ins_on_both_processes_count_against_one_account_limit(
    topology: Topology,
) -> None:
    def sign_in(server: Server, password: str) -> int:
        with httpx.Client() as browser:
            form = CSRF.search(browser.get(server.url + "/editor/login").text)
            assert form
            fields = {"csrf_token": form.group(1), "email": "grace@example.org"}
            return browser.post(
                server.url + "/editor/login", data={**fields, "password": password}
            ).status_code

    servers = [topology.a, topology.b] * 3
    statuses = [sign_in(server, "pas le bon mot de passe") for server in servers[:ACCOUNT_LIMIT]]
    assert statuses == [400] * ACCOUNT_LIMIT
    # The sixth attempt, on either process, is refused before the password is checked.
    assert sign_in(topology.a, PASSWORD) == 429
    assert sign_in(topology.b, PASSWORD) == 429


# --- a process dies -----------------------------------------------------------------------------


def test_killing_a_process_during_writes_loses_no_acknowledged_write(topology: Topology) -> None:
    a, b, proxy = topology.a, topology.b, topology.proxy
    acknowledged: list[tuple[int, str, float]] = []  # id, title, when
    stop = threading.Event()
    targets = [a.url, b.url, proxy.url]

    def write(writer: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            title = f"Permanence {writer}-{n}"
            target = targets[(writer + n) % len(targets)]
            try:
                status, made = post_json(
                    target + "/api/events", event_payload(title=title), topology.editor
                )
            except (OSError, http.client.HTTPException):
                continue  # refused, or cut mid-answer by the kill: not acknowledged
            if status == 201:
                acknowledged.append((made["id"], title, time.monotonic()))

    writers = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    try:
        for thread in writers:
            thread.start()
        time.sleep(1.0)
        a.kill()  # SIGKILL, in the middle of requests
        killed = time.monotonic()
        time.sleep(1.5)
    finally:
        stop.set()
        for thread in writers:
            thread.join(30)
    after = [entry for entry in acknowledged if entry[2] > killed]
    assert len(acknowledged) > 20 and len(after) > 5, (len(acknowledged), len(after))

    # Every acknowledged write is stored, and B and the proxy keep serving.
    for event_id, title, _ in acknowledged:
        status, _, body = fetch(f"{b.url}/api/events/{event_id}")
        assert status == 200 and json.loads(body)["title"]["fr"] == title
    for _ in range(20):
        assert fetch(proxy.url + "/api/events?limit=1")[0] == 200
        assert fetch(proxy.url + "/feeds/agenda.ics")[0] == 200

    # Started again on its port, A serves again, directly and, once nginx tries it again
    # (fail_timeout), through the proxy.
    a.start()
    a.wait_ready()
    assert fetch(f"{a.url}/api/events/{after[-1][0]}")[0] == 200

    def proxied_to_a() -> bool:
        assert fetch(proxy.url + "/api/categories")[0] == 200
        return any(line.get("path") == "/api/categories" for line in a.lines())

    back = within(15, proxied_to_a)
    print(f"{len(acknowledged)} writes acknowledged ({len(after)} after the kill), all stored;")
    print(f"A got requests through the proxy again {back:.1f} s after its restart")


# --- the proxy's cache ----------------------------------------------------------------------


def cache_status(url: str, headers: dict[str, str] | None = None) -> str:
    status, answer, _ = fetch(url, headers)
    assert status == 200, (url, status)
    return answer.get("x-cache-status", "")


def conditional_304s(servers: tuple[Server, ...], path: str) -> int:
    return sum(
        1
        for server in servers
        for line in server.lines()
        if line.get("path") == path and line.get("status") == 304
    )


def test_the_proxy_caches_then_revalidates_with_the_validators(topology: Topology) -> None:
    proxy, servers = topology.proxy, (topology.a, topology.b)
    path = "/feeds/culture.ics"
    url = proxy.url + path
    assert cache_status(url) == "MISS"
    assert cache_status(url) == "HIT"
    before = conditional_304s(servers, path)
    time.sleep(STALE_AFTER_S)
    # The stale copy is served at once while nginx asks a process with If-None-Match, which
    # answers 304; the copy is then fresh again.
    assert cache_status(url) in ("STALE", "UPDATING", "REVALIDATED")
    within(3, lambda: conditional_304s(servers, path) > before)
    within(2, lambda: cache_status(url) == "HIT")


def test_the_proxy_keeps_a_form_per_encoding_and_answers_conditional_requests(
    topology: Topology,
) -> None:
    url = topology.proxy.url + "/feeds/mobilisations.ics"
    gzip = {"Accept-Encoding": "gzip"}
    fetch(url)
    fetch(url, gzip)
    status, identity, plain = fetch(url)
    assert (status, identity["x-cache-status"]) == (200, "HIT")
    assert "content-encoding" not in identity and plain.startswith(b"BEGIN:VCALENDAR")
    # Every spelling of "gzip" shares the gzip form.
    status, zipped, body = fetch(url, {"Accept-Encoding": "gzip, deflate, br"})
    assert (status, zipped["x-cache-status"], zipped["content-encoding"]) == (200, "HIT", "gzip")
    assert body.startswith(b"\x1f\x8b") and zipped["etag"] != identity["etag"]
    status, answer, body = fetch(url, {**gzip, "If-None-Match": zipped["etag"]})
    assert (status, body) == (304, b"")
    assert answer["etag"] == zipped["etag"]


def test_unread_query_parameters_make_no_new_cache_entry(topology: Topology) -> None:
    proxy = topology.proxy
    url = proxy.url + "/feeds/rencontres.ics"
    fetch(url)
    assert cache_status(url) == "HIT"
    entries = proxy.cache_files()
    for i in range(30):
        assert cache_status(f"{url}?utm_source=lettre-{i}&cb={i}") == "HIT"
    # A parameter the feed reads is a different answer; one nginx could misread skips the cache.
    assert cache_status(url + "?lang=en") == "MISS"
    assert cache_status(url + "?lang=en&utm_source=x") == "HIT"
    for odd in ("?LANG=en", "?l%61ng=en", "?lang=en&lang=fr", "?tag=a&tag=b", "?lang="):
        answer = fetch(url + odd)[1]
        assert answer.get("x-cache-status") == "BYPASS", odd
    assert proxy.cache_files() == entries + 1


def test_private_answers_and_requests_are_never_cached(topology: Topology) -> None:
    proxy, editor = topology.proxy, topology.editor
    entries = proxy.cache_files()
    for _ in range(2):
        status, answer, _ = fetch(proxy.url + "/editor/login")
        assert status == 200 and "set-cookie" in answer
        assert "x-cache-status" not in answer
    feed = proxy.url + "/feeds/agenda.json"
    for headers in (
        editor,
        {"Cookie": "calendar_session=abc"},
        {"Origin": "https://partenaire.example.org"},
    ):
        for _ in range(2):
            status, answer, _ = fetch(feed, headers)
            assert (status, answer.get("x-cache-status")) == (200, "BYPASS"), headers
    assert fetch(feed, {"Origin": "https://x.example"})[1]["access-control-allow-origin"] == "*"
    for _ in range(2):
        status, answer, _ = fetch(proxy.url + "/api/events?limit=1", editor)
        assert status == 200 and "x-cache-status" not in answer
    assert proxy.cache_files() == entries


def test_the_proxy_guards_metrics_bodies_and_client_addresses(topology: Topology) -> None:
    a, proxy = topology.a, topology.proxy
    assert fetch(proxy.url + "/metrics", {"Authorization": f"Bearer {TOKEN}"})[0] == 403
    assert fetch(a.url + "/metrics", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    status, answer, body = fetch(
        proxy.url + "/api/events",
        {**topology.editor, "Content-Type": "application/json"},
        method="POST",
        body=b" " * 1_000_001,
    )
    assert status == 413 and answer["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 413
    # The address nginx saw replaces the one a client claims.
    path = f"/api/events/x-forwarded-{uuid.uuid4().hex[:8]}"
    fetch(proxy.url + path, {"X-Forwarded-For": "203.0.113.9"})

    def clients() -> set[object]:
        return {
            line.get("client")
            for server in (topology.a, topology.b)
            for line in server.lines()
            if line.get("path") == path
        }

    within(2, lambda: bool(clients()))  # the line is written once the answer is sent
    assert clients() == {"127.0.0.1"}


def test_the_proxy_serves_its_copy_while_both_processes_are_down(topology: Topology) -> None:
    proxy = topology.proxy
    url = proxy.url + "/feeds/agenda.rss"
    fetch(url)
    status, _, cached = fetch(url)
    assert status == 200
    try:
        topology.a.kill()
        topology.b.kill()
        time.sleep(STALE_AFTER_S)
        status, answer, body = fetch(url)
        assert (status, answer["x-cache-status"], body) == (200, "STALE", cached)
        assert fetch(proxy.url + "/api/events")[0] == 502  # nothing cached there
    finally:
        topology.both_up()
    within(15, lambda: fetch(proxy.url + "/api/events?limit=1")[0] == 200)
