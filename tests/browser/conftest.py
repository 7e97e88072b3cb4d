"""Browser fixtures: the real service, a partner site on another origin, headless Chromium.

One of each for the whole of ``tests/browser``: package-scoped, so that Chromium and the servers
stop before the rest of the suite runs (Playwright's sync API holds an event loop open).

``service`` is ``calendar-service serve`` in a subprocess on a free port of 127.0.0.1, over a
temporary SQLite database holding the demo events (dated from today), a hostile event, a
cancelled one and an illustrated one. ``partner`` is a static site on
``http://localhost:<other port>`` (another origin, and another site) whose pages embed the
widget or the iframe. ``browse(url, **context_options)`` opens a page in a fresh context of
that Chromium, recording console errors, page errors, dialogs and requests; ``axe(page)``
returns the serious and critical axe-core violations; ``screenshot(page, name)`` saves a
full-page PNG under ``tests/artifacts/browser/`` (or ``$ARTIFACTS_DIR``).

Without Chromium, Playwright or axe-core, the tests skip saying so; with ``CI=true`` they fail.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import ProxyHandler, Request, build_opener

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        ConsoleMessage,
        Dialog,
        Frame,
        Page,
        Response,
        Route,
    )

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_SCRIPT = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR") or ROOT / "tests" / "artifacts" / "browser")
TIMEOUT_MS = 10_000
STARTUP_SECONDS = 30

# The hostile event: markup, handlers and a javascript: link in every text a page shows.
HOSTILE_TITLE = "<script>alert('title')</script><img src=x onerror=alert('img')> Concert \"test\""
HOSTILE_SUMMARY = "Résumé <script>alert(2)</script> <img src=x onerror=alert(3)> fin"
HOSTILE_DESCRIPTION = (
    "Texte <script>alert(2)</script> fin.\n\n"
    "<img src=x onerror=alert(3)>\n\n"
    "[x](javascript:alert(4)) et [lien](javascript:alert(4))"
)
HOSTILE_PLACE = "Salle <b onmouseover=alert(5)>Voltaire</b>"
HOSTILE_ORGANIZER = 'Org "><script>alert(6)</script>'
# The illustrated event's image: the one address off our origin a page may ask for. The
# browser never reaches it (see ``browse``): a stub answers.
IMAGE_URL = "https://images.example.org/affiche-exposition.png"
# A 1x1 transparent PNG, the stub's answer to any image asked of another origin.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def missing(message: str) -> NoReturn:
    """Skip (on a laptop) or fail (in CI) a test whose tools are not installed."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the browser tests must run)")
    pytest.skip(message)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the service -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """An HTTP response read from Python: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


# Straight to the local servers, whatever proxy the environment names.
_OPENER = build_opener(ProxyHandler({}))


def fetch(url: str, headers: dict[str, str] | None = None) -> Fetched:
    """GET ``url`` from Python (an error status is returned, not raised)."""
    request = Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Fetched(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except HTTPError as error:
        with error:
            return Fetched(
                error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
            )


@dataclass(frozen=True)
class Seeded:
    """One event of the session's database."""

    slug: str
    uid: str
    title: str  # in French, the default language
    status: str


@dataclass(frozen=True)
class Service:
    """The running service: its origin, its events by role, its database (for the command
    line, e.g. to create an account), and a way to read it from Python."""

    url: str
    events: dict[str, Seeded]
    log: Path
    database_url: str

    def get(self, path: str, **params: Any) -> Fetched:
        query = f"?{urlencode(params)}" if params else ""
        return fetch(f"{self.url}{path}{query}")

    def occurrences(self, **params: Any) -> list[dict[str, Any]]:
        """``GET /api/occurrences`` with ``params``: the items, as the widget should show them
        (looking a year ahead, as the widget and the embed do, unless ``to`` is given)."""
        params.setdefault("to", (date.today() + timedelta(days=365)).isoformat())
        response = self.get("/api/occurrences", **params)
        assert response.status == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def page_url(self, key: str) -> str:
        return f"{self.url}/events/{self.events[key].slug}"


def _extra_events(today: date) -> dict[str, dict[str, Any]]:
    def at(days: int, hour: int, minute: int = 0) -> str:
        return f"{today + timedelta(days=days)}T{hour:02d}:{minute:02d}:00"

    return {
        "hostile": {
            "title": HOSTILE_TITLE,
            "summary": HOSTILE_SUMMARY,
            "description": HOSTILE_DESCRIPTION,
            "category": "concert",
            "tags": ["test"],
            "start": at(2, 18, 30),
            "end": at(2, 22),
            "location": {
                "name": HOSTILE_PLACE,
                "address": "1 rue <i>Voltaire</i>",
                "postal_code": "75011",
                "city": "Paris",
                "lat": 48.8566,
                "lon": 2.3795,
            },
            "organizer": {"name": HOSTILE_ORGANIZER},
            "price": "<script>alert(7)</script> Gratuit",
            "state": "published",
        },
        "cancelled": {
            "title": {"fr": "Atelier d'écriture solidaire", "en": "Solidarity writing workshop"},
            "summary": {"fr": "Un atelier d'écriture ouvert à toutes et à tous."},
            "category": "atelier",
            "tags": ["ecriture"],
            "start": at(12, 14),
            "end": at(12, 17),
            "location": {
                "name": "Maison des associations",
                "address": "8 rue du Général Renault",
                "postal_code": "75011",
                "city": "Paris",
                "lat": 48.8625,
                "lon": 2.3795,
            },
            "organizer": {
                "name": "France terre d'asile",
                "url": "https://www.france-terre-asile.org",
            },
            "price": "Gratuit",
            "status": "cancelled",
            "state": "published",
        },
        # An association whose next events are four to eleven months away (tag "lointain"):
        # a weekly drop-in session first, then five evenings.
        "far-weekly": {
            "title": {"fr": "Permanence d'été", "en": "Summer drop-in"},
            "category": "permanence",
            "tags": ["lointain"],
            "start": at(122, 14),
            "end": at(122, 17),
            "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=30"},
            "location": {"name": "Local associatif", "city": "Saint-Denis"},
            "state": "published",
        },
        **{
            f"far-{n}": {
                "title": {"fr": f"Soirée lointaine {n}", "en": f"Far evening {n}"},
                "category": "rencontre",
                "tags": ["lointain"],
                "start": at(days, 19),
                "end": at(days, 23),
                "location": {"name": "Salle des fêtes", "city": "Montreuil"},
                "state": "published",
            }
            for n, days in enumerate((125, 170, 220, 280, 330))
        },
        # Far ahead, out of the widget's first pages: its image is an address elsewhere.
        "illustrated": {
            "title": {"fr": "Exposition « Visages de l'exil »", "en": "Exhibition: Faces of exile"},
            "summary": {"fr": "Portraits de personnes exilées, par des photographes bénévoles."},
            "category": "exposition",
            "start": at(150, 10),
            "end": at(150, 18),
            "location": {
                "name": "Mairie du 18e",
                "address": "1 place Jules Joffrin",
                "postal_code": "75018",
                "city": "Paris",
                "lat": 48.8924,
                "lon": 2.3442,
            },
            "organizer": {
                "name": "France terre d'asile",
                "url": "https://www.france-terre-asile.org",
            },
            "image": {
                "url": IMAGE_URL,
                "alt": {"fr": "Portrait en noir et blanc", "en": "Black and white portrait"},
                "width": 1200,
                "height": 800,
            },
            "price": "Entrée libre",
            "state": "published",
        },
    }


def seed(settings: Any) -> dict[str, Seeded]:
    """Migrate and fill the database: the demo events, then ours; each event by role."""
    from calendar_service.db import events as store
    from calendar_service.db.connection import Storage, migrate
    from calendar_service.demo import demo_events
    from calendar_service.normalise import parse_event
    from calendar_service.render.ical import RenderContext, renderer
    from calendar_service.schedule import schedule_for

    today = date.today()
    documents: list[tuple[str | None, dict[str, Any]]] = []
    for document in demo_events(today):
        role = None
        if document.get("status") == "postponed":
            role = "postponed"
        elif document.get("attendance_mode") == "online":
            role = "online"
        elif document.get("category") == "concert":
            role = "concert"
        documents.append((role, document))
    documents.extend(_extra_events(today).items())

    async def work() -> dict[str, Seeded]:
        storage = Storage(settings.database_url)
        await storage.connect()
        try:
            render = renderer(RenderContext.from_settings(settings))
            found: dict[str, Seeded] = {}
            for role, document in documents:
                event = parse_event(document, settings)
                stored = await store.create_event(
                    storage,
                    event=event,
                    schedule=schedule_for(event, settings),
                    render=render,
                    default_language=settings.default_language,
                    base_url=settings.base_url,
                )
                title = stored.document["title"]
                seeded = Seeded(
                    slug=stored.slug,
                    uid=stored.uid,
                    title=title[settings.default_language] if isinstance(title, dict) else title,
                    status=stored.document.get("status", "scheduled"),
                )
                found.setdefault(role or seeded.slug, seeded)  # the first of each role
            return found
        finally:
            await storage.disconnect()

    migrate(settings.database_url)
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()


@pytest.fixture(scope="package")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``calendar-service serve`` on a free port of 127.0.0.1, with the session's events."""
    from calendar_service.settings import Settings

    folder = tmp_path_factory.mktemp("service")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    values = {
        "database_url": f"sqlite:///{folder / 'calendar.db'}",
        "base_url": url,
        "environment": "development",
        "feeds_dir": str(ROOT / "feeds"),
    }
    events = seed(Settings(**values))  # type: ignore[arg-type]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CALENDAR_")}
    environment.update({f"CALENDAR_{k.upper()}": v for k, v in values.items()})
    log = folder / "server.log"
    with serving(port, cwd=folder, environment=environment, log=log, host="127.0.0.1"):
        yield Service(url=url, events=events, log=log, database_url=values["database_url"])


@contextmanager
def serving(
    port: int, *, cwd: Path, environment: dict[str, str], log: Path, host: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``calendar-service serve --port port`` run from ``cwd``, its output in ``log``, until
    ``/healthz`` answers; stopped (SIGTERM, then SIGKILL) on leaving."""
    command = [sys.executable, "-m", "calendar_service", "serve", "--port", str(port)]
    if host:
        command += ["--host", host]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if fetch(f"http://127.0.0.1:{port}/healthz").status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the partner site ------------------------------------------------------------------------

PARTNER_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ font-family: sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }}
iframe {{ border: 0; width: 100%; min-height: 10rem; }}</style>
{head}
</head>
<body>
<main>
<h1>{title}</h1>
<p>Une association partenaire présente l'agenda solidaire sur son site.</p>
{body}
</main>
</body>
</html>
"""

# Records what embeds tell the page (window.__messages) and sizes the iframe from its height.
MESSAGE_LISTENER = """<script>
window.__messages = [];
window.addEventListener("message", (event) => {
  window.__messages.push({ origin: event.origin, data: event.data });
  const height = event.data && event.data.height;
  const frame = document.querySelector("iframe");
  if (frame && typeof height === "number" && event.source === frame.contentWindow) {
    frame.style.height = height + "px";
  }
});
</script>"""


@dataclass
class Partner:
    """A static site on another origin; ``add`` publishes a page and returns its address."""

    url: str
    service_url: str
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path: (type, body)

    def add(self, body: str, *, title: str = "Site partenaire", head: str = "") -> str:
        """Publish a page with ``body`` in its <main> (and ``head`` in its <head>)."""
        text = PARTNER_PAGE.format(title=html.escape(title), head=head, body=body)
        return self.add_file(f"/page-{len(self.files) + 1}.html", text.encode(), "text/html")

    def add_file(self, path: str, body: bytes, content_type: str) -> str:
        self.files[path] = (f"{content_type}; charset=utf-8", body)
        return self.url + path

    def widget_page(self, **attributes: str) -> str:
        """A page embedding ``<calendar-events ...attributes>`` through our ``widget.js``."""
        attrs = "".join(f' {name}="{html.escape(value)}"' for name, value in attributes.items())
        script = f'<script src="{self.service_url}/widget.js" defer></script>'
        return self.add(f"<calendar-events{attrs}></calendar-events>", head=script)

    def iframe_page(self, feed: str = "agenda", **params: str) -> str:
        """A page framing ``/embed/{feed}?params``, listening to its messages."""
        src = f"{self.service_url}/embed/{feed}?{urlencode(params)}"
        frame = f'<iframe src="{html.escape(src)}" title="Agenda"></iframe>'
        return self.add(frame, head=MESSAGE_LISTENER)


def _handler(partner: Partner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
                return
            if path not in partner.files:
                self.send_error(404)
                return
            content_type, body = partner.files[path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="package")
def partner(service: Service) -> Iterator[Partner]:
    """The partner site, on ``http://localhost:<port>``: another origin and another site."""
    site = Partner(url="", service_url=service.url)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.url = f"http://localhost:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="partner-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (sync API)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        missing("Playwright is not installed (pip install -e '.[test]'): browser tests not run")
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium): browser tests not run")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, timeout=30_000
            )
        except Error as error:
            missing(f"Chromium at {CHROMIUM} does not start: {error.message.splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()


def scriptable(frame: Frame) -> bool:
    """Whether ``frame.evaluate`` can run: not in a frame sandboxed without ``allow-scripts``
    (where it would wait forever, and where nothing runs anyway), nor a detached one."""
    if frame.is_detached():
        return False
    if frame.parent_frame is None:
        return True
    sandbox = frame.frame_element().get_attribute("sandbox")
    return (sandbox is None or "allow-scripts" in sandbox.split()) and scriptable(
        frame.parent_frame
    )


@dataclass
class Visit:
    """A page opened by ``browse``, with everything it did."""

    page: Page
    response: Response | None
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    stubbed: list[str] = field(default_factory=list)  # requests to other origins, never sent

    def origins(self) -> set[str]:
        """Origins of every network request (data: and blob: URLs are not requests)."""
        return {origin_of(u) for u in self.requests if not u.startswith(("data:", "blob:"))}

    def requests_off(self, *origins: str, allowed: tuple[str, ...] = ()) -> list[str]:
        """Requests to anywhere but ``origins`` (and but the exact URLs in ``allowed``)."""
        return [
            u
            for u in self.requests
            if not u.startswith(("data:", "blob:"))
            and origin_of(u) not in origins
            and u not in allowed
        ]

    def assert_nothing_ran(self) -> None:
        """No dialog opened, no script error, no console error (a CSP refusal is one)."""
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.page_errors == [], f"uncaught errors: {self.page_errors}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"

    def eval(self, expression: str, arg: Any = None) -> Any:
        """``page.evaluate`` in the main frame."""
        return self.page.evaluate(expression, arg)

    def markup_problems(self) -> list[str]:
        """Smuggled markup in the page, its open shadow roots and its frames: event handler
        attributes, javascript: links, the hostile ``<img src=x>``, scripts calling alert."""
        found: list[str] = []
        for frame in self.page.frames:
            if scriptable(frame):
                found.extend(frame.evaluate(MARKUP_CHECK))
        return found

    def assert_inert(self) -> None:
        """Nothing ran and nothing was smuggled into the markup."""
        self.assert_nothing_ran()
        assert self.markup_problems() == []


MARKUP_CHECK = """() => {
  const problems = [];
  const walk = (root, where) => {
    for (const node of root.querySelectorAll("*")) {
      const tag = node.localName;
      for (const { name, value } of node.attributes) {
        const handler = name.startsWith("on") && name !== "once";
        if (handler) problems.push(`${where}: <${tag} ${name}=${value}>`);
        const url = ["href", "src", "action", "formaction", "xlink:href"].includes(name);
        if ((url && /^\\s*(javascript|vbscript):/i.test(value))
            || (name === "href" && /^\\s*data:/i.test(value))) {
          problems.push(`${where}: <${tag} ${name}=${value}>`);
        }
      }
      if (tag === "img" && node.getAttribute("src") === "x") problems.push(`${where}: <img src=x>`);
      if (tag === "script" && /alert\\(/.test(node.textContent)
          && node.type !== "application/ld+json") {
        problems.push(`${where}: <script>${node.textContent.slice(0, 80)}</script>`);
      }
      if (node.shadowRoot) walk(node.shadowRoot, `${where} <${tag}> shadow root`);
    }
  };
  walk(document, location.href);
  return problems;
}"""

Browse = Callable[..., Visit]


@pytest.fixture
def browse(chromium: Browser, service: Service, partner: Partner) -> Iterator[Browse]:
    """``browse(url, **context_options)``: a new context (French, Paris time, 1280x800 unless
    told), a page recording what happens, then ``goto(url)``. Requests to anywhere but the
    service and the partner site never leave the browser: a stub answers (an image for images,
    204 otherwise) and the URL is kept in ``visit.stubbed`` as well as ``visit.requests``."""
    contexts = []
    local = (origin_of(service.url), origin_of(partner.url))

    def open_page(url: str, *, wait_until: str = "load", **options: Any) -> Visit:
        settings: dict[str, Any] = {
            "locale": "fr-FR",
            "timezone_id": "Europe/Paris",
            "viewport": {"width": 1280, "height": 800},
            **options,
        }
        context = chromium.new_context(**settings)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        visit = Visit(page=page, response=None)

        def stub(route: Route) -> None:
            request = route.request
            if origin_of(request.url) in local:
                route.continue_()
                return
            visit.stubbed.append(request.url)
            if request.resource_type == "image":
                route.fulfill(status=200, content_type="image/png", body=PIXEL)
            else:
                route.fulfill(status=204, body=b"")

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                visit.console_errors.append(f"{message.text} ({message.location.get('url')})")

        def on_dialog(dialog: Dialog) -> None:
            visit.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        context.route("**/*", stub)
        page.on("console", on_console)
        page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
        page.on("request", lambda request: visit.requests.append(request.url))
        page.on("dialog", on_dialog)
        visit.response = page.goto(url, wait_until=wait_until)  # type: ignore[arg-type]
        return visit

    yield open_page
    for context in contexts:
        context.close()


# --- axe-core and screenshots ----------------------------------------------------------------

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"], iframes: false });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, html: n.html.slice(0, 200) })),
  }));
}"""

Axe = Callable[["Page"], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def axe() -> Axe:
    """``axe(page)``: the serious and critical axe-core violations of the page and each of its
    frames (each frame checked on its own, the frame's URL added to each violation)."""

    def run(page: Page) -> list[dict[str, Any]]:
        if not AXE_SCRIPT.is_file():
            missing("axe-core is not installed (cd tests/js && npm ci): accessibility not checked")
        source = AXE_SCRIPT.read_text(encoding="utf-8")
        found = []
        for frame in page.frames:
            if not scriptable(frame) or frame.url in ("", "about:blank"):
                continue  # a frame sandboxed without scripts: no axe (and nothing runs)
            # Evaluated through the DevTools protocol: no CSP stands in the way.
            if not frame.evaluate("() => typeof window.axe === 'object'"):
                frame.evaluate(source)
            for violation in frame.evaluate(AXE_RUN):
                if violation["impact"] in ("serious", "critical"):
                    found.append({**violation, "frame": frame.url})
        return found

    return run


Screenshot = Callable[["Page", str], Path]


@pytest.fixture(scope="session")
def screenshot() -> Screenshot:
    """``screenshot(page, name)``: a full-page PNG, ``<ARTIFACTS>/<name>.png``; its path."""

    def save(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
