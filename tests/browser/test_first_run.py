"""A newcomer's first run: what `make run PORT=…` runs (migrate, demo events, serve), in an
empty folder with no ``CALENDAR_`` setting at all, on a port that is not 8000. Every absolute
link of the pages, the snippets and the files the service gives out must answer on that port."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest

from tests.browser.conftest import ROOT, fetch, free_port, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

pytestmark = pytest.mark.browser

# Every absolute URL in a text, plain or percent-encoded (inside a Google or Outlook link).
# (Cut at "&", inside another URL its next parameter, and at "|", a Mailchimp merge tag's end.)
ABSOLUTE = re.compile(r"""(?:https?|webcal)://[^\s"'<>\\)&|]+""")
LOCAL_ADDRESS = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::(\d+))?")

# What a page shows: links, sources, and the text of its snippets (code, fields).
READ_URLS = """() => {
  const found = [];
  for (const node of document.querySelectorAll("[href], [src], [action]")) {
    for (const name of ["href", "src", "action"]) {
      const value = node.getAttribute(name);
      if (value) found.push(new URL(value, location.href).href);
    }
  }
  for (const node of document.querySelectorAll("code, pre, textarea, input, output")) {
    found.push(node.value || node.textContent || "");
  }
  return found;
}"""


def _cli(folder: Path, environment: dict[str, str], *arguments: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "calendar_service", *arguments],
        cwd=folder,
        env=environment,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service as `make run PORT=<free port>` starts it; its URL."""
    folder = tmp_path_factory.mktemp("first-run")
    # As in a fresh clone, where `make run` runs: the feed definitions beside the database.
    shutil.copytree(ROOT / "feeds", folder / "feeds")
    port = free_port()
    assert port != 8000
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CALENDAR_")}
    _cli(folder, environment, "migrate")
    _cli(folder, environment, "demo", "--if-empty")
    with serving(port, cwd=folder, environment=environment, log=folder / "server.log"):
        yield f"http://127.0.0.1:{port}"


def _local_urls(texts: list[str]) -> set[str]:
    """The absolute URLs to this machine in ``texts``, also those percent-encoded inside
    another URL (the page link in a Google Calendar link)."""
    found: set[str] = set()
    for text in texts:
        text = html.unescape(text)
        for candidate in ABSOLUTE.findall(text) + ABSOLUTE.findall(unquote(text)):
            if LOCAL_ADDRESS.fullmatch(urlsplit(candidate).netloc):
                found.add(candidate.rstrip(".,;"))
    return found


def test_every_absolute_link_answers_on_the_port_the_service_listens_on(
    first_run: str, chromium: Browser
) -> None:
    port = urlsplit(first_run).port
    context = chromium.new_context(locale="fr-FR", timezone_id="Europe/Paris")

    def only_here(route: Route) -> None:
        if urlsplit(route.request.url).port == port:
            route.continue_()
        else:
            route.abort()  # no request leaves this machine

    context.route("**/*", only_here)
    page = context.new_page()
    try:
        page.goto(f"{first_run}/")
        seen: set[str] = _local_urls(page.evaluate(READ_URLS))
        event_pages = sorted(u for u in seen if urlsplit(u).path.startswith("/events/"))
        assert event_pages, "the home page links to no event"
        pages = [event_pages[0].split("?")[0].removesuffix(".ics"), "/embed", "/newsletter"]
        pages += ["/agenda", "/agenda?period=past"]
        for path in pages:
            address = path if path.startswith("http") else f"{first_run}{path}"
            answer = page.goto(address)
            assert answer is not None and answer.status == 200, address
            seen |= _local_urls(page.evaluate(READ_URLS))
            seen |= _local_urls([page.content()])
    finally:
        context.close()
    # The files the service gives out: a feed, the newsletter's RSS and JSON Feed.
    for path in ("/feeds/agenda.ics", "/feeds/agenda.rss", "/feeds/agenda.json"):
        answer = fetch(f"{first_run}{path}")
        assert answer.status == 200, path
        seen |= _local_urls([answer.text])

    wrong = sorted(u for u in seen if urlsplit(u).port != port)
    assert wrong == [], f"links to another port than {port}: {wrong[:10]}"
    kinds = {urlsplit(u).scheme for u in seen}
    assert {"http", "webcal"} <= kinds
    checked = 0
    for url in sorted(seen):
        if "{" in url:
            continue  # a template in a snippet
        answer = fetch(re.sub(r"^webcal://", "http://", url))
        assert answer.status < 400, f"{url} answers {answer.status}"
        checked += 1
    assert checked >= 20, sorted(seen)
