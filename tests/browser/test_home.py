"""The home page ``/``: upcoming events, the feeds to subscribe to, the ways to share."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from tests.browser.conftest import HOSTILE_TITLE, Axe, Browse, Screenshot, Service

pytestmark = pytest.mark.browser

READ_HOME = """() => ({
  links: [...document.querySelectorAll("a[href]")].map((a) => ({
    href: a.getAttribute("href"), url: a.href, text: a.textContent.trim(),
  })),
  times: document.querySelectorAll("main time[datetime]").length,
  lang: document.documentElement.lang,
  text: document.body.innerText,
})"""


def test_home_lists_events_and_feeds(
    service: Service, browse: Browse, screenshot: Screenshot, axe: Axe
) -> None:
    visit = browse(f"{service.url}/")
    assert visit.response is not None and visit.response.status == 200
    screenshot(visit.page, "home")
    page = visit.eval(READ_HOME)
    assert page["lang"] == "fr"
    by_path: dict[str, list[str]] = {}
    for link in page["links"]:
        by_path.setdefault(urlsplit(link["url"]).path, []).append(link["text"])

    # The upcoming events, each a link to its page titled as written.
    upcoming = service.occurrences(limit=5, lang="fr")
    for occurrence in upcoming:
        assert occurrence["title"] in by_path.get(urlsplit(occurrence["links"]["page"]).path, [])
    assert HOSTILE_TITLE in by_path[f"/events/{service.events['hostile'].slug}"]
    assert page["times"] >= len(upcoming)

    # Every feed, to subscribe by webcal, over http(s) or in Google Calendar.
    feeds = service.get("/api/feeds").json()["items"]
    hrefs = [link["url"] for link in page["links"]]
    host = urlsplit(service.url).netloc
    for feed in feeds:
        ics = f"/feeds/{feed['slug']}.ics"
        assert f"webcal://{host}{ics}" in hrefs, f"no webcal link for {feed['slug']}"
        assert f"{service.url}{ics}" in hrefs, f"no http(s) link for {feed['slug']}"
        google = [h for h in hrefs if urlsplit(h).hostname == "calendar.google.com"]
        assert any(f"{host}{ics}" in unquote(h) for h in google), f"no Google link: {google}"

    paths = {urlsplit(link["url"]).path for link in page["links"]}
    assert {"/embed", "/newsletter"} <= paths
    assert visit.requests_off(service.url) == []
    assert visit.page.context.cookies() == []
    visit.assert_inert()
    assert axe(visit.page) == []


def test_home_in_english(service: Service, browse: Browse, screenshot: Screenshot) -> None:
    visit = browse(f"{service.url}/?lang=en")
    screenshot(visit.page, "home-en")
    page = visit.eval(READ_HOME)
    assert page["lang"] == "en"
    titles = [link["text"] for link in page["links"]]
    assert "Solidarity concert for eastern DR Congo" in titles
    assert "Ajouter à mon agenda" not in page["text"]
    # The ways to share keep the language.
    for path in ("/embed", "/newsletter"):
        assert any(link["href"] in (f"{path}?lang=en",) for link in page["links"]), path
    visit.assert_inert()


def test_home_headers(service: Service) -> None:
    response = service.get("/")
    assert response.headers.get("x-frame-options", "").upper() == "DENY"
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
    assert "set-cookie" not in response.headers
