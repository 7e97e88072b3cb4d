"""The public page of an event, ``/events/{slug}``: what search engines and social networks read
(JSON-LD, OpenGraph), the links a visitor follows, its headers, and hostile text kept inert."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import (
    HOSTILE_PLACE,
    HOSTILE_TITLE,
    IMAGE_URL,
    Axe,
    Browse,
    Screenshot,
    Service,
    Visit,
)

pytestmark = pytest.mark.browser

READ_PAGE = """() => ({
  jsonld: [...document.querySelectorAll('script[type="application/ld+json"]')]
    .map((s) => s.textContent),
  meta: Object.fromEntries([...document.querySelectorAll("meta[property], meta[name]")]
    .map((m) => [m.getAttribute("property") || m.getAttribute("name"), m.content])),
  links: [...document.querySelectorAll("a[href]")].map((a) => ({
    href: a.href, text: a.textContent.trim(),
  })),
  frames: document.querySelectorAll("iframe, frame, object, embed").length,
  h1: document.querySelector("h1") && document.querySelector("h1").textContent.trim(),
  text: document.body.innerText,
  lang: document.documentElement.lang,
})"""


def find_event(data: Any) -> dict[str, Any] | None:
    """The schema.org Event in a JSON-LD document (alone, in a list or in an @graph)."""
    if isinstance(data, list):
        return next((e for e in map(find_event, data) if e), None)
    if isinstance(data, dict):
        kind = data.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(isinstance(k, str) and k.endswith("Event") for k in kinds):
            return data
        return find_event(data.get("@graph"))
    return None


def schema(value: Any, name: str) -> bool:
    """``value`` is the schema.org term ``name`` (https or http, as Google accepts both)."""
    return value in (f"https://schema.org/{name}", f"http://schema.org/{name}")


def open_event(browse: Browse, service: Service, key: str, query: str = "") -> tuple[Visit, Any]:
    visit = browse(service.page_url(key) + query)
    assert visit.response is not None and visit.response.status == 200
    page = visit.eval(READ_PAGE)
    events = [find_event(json.loads(text)) for text in page["jsonld"]]  # each parses as JSON
    page["event"] = next((e for e in events if e), None)
    assert page["event"] is not None, f"no schema.org Event in {page['jsonld']}"
    return visit, page


def api_event(service: Service, key: str) -> dict[str, Any]:
    response = service.get(f"/api/events/{service.events[key].slug}", lang="fr")
    assert response.status == 200, response.text
    event: dict[str, Any] = response.json()
    return event


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+\.\d+", text)]


def test_headers_forbid_framing_and_inline_scripts(service: Service) -> None:
    response = service.get(f"/events/{service.events['concert'].slug}")
    assert response.status == 200
    assert response.headers.get("x-frame-options", "").upper() == "DENY"
    policy = response.headers.get("content-security-policy", "")
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value.strip()
    assert directives.get("frame-ancestors") == "'none'", policy
    assert "default-src" in directives, policy
    scripts = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, policy
    assert "*" not in scripts.split() and "http:" not in scripts and "https:" not in scripts
    assert "set-cookie" not in response.headers


def test_event_page_describes_the_event_to_machines_and_people(
    service: Service, browse: Browse, screenshot: Screenshot, axe: Axe
) -> None:
    visit, page = open_event(browse, service, "concert")
    screenshot(visit.page, "event-page")
    event = api_event(service, "concert")
    title = service.events["concert"].title
    url = service.page_url("concert")

    ld = page["event"]
    assert "schema.org" in json.dumps(ld.get("@context"))
    assert ld["name"] == title
    assert ld["startDate"][:16] == event["start"][:16]
    assert schema(ld["eventStatus"], "EventScheduled")
    assert schema(ld["eventAttendanceMode"], "OfflineEventAttendanceMode")
    assert ld["location"]["@type"] == "Place"
    assert ld["location"]["name"] == "La Bellevilloise"
    assert "19-21 rue Boyer" in json.dumps(ld["location"]["address"], ensure_ascii=False)
    organizer = ld["organizer"][0] if isinstance(ld["organizer"], list) else ld["organizer"]
    assert organizer["name"] == "YoonRisen"
    assert ld.get("offers"), "a priced event has offers"
    assert urlsplit(ld.get("url", url)).path == urlsplit(url).path

    meta = page["meta"]
    assert meta.get("og:title") == title
    assert meta.get("og:type")
    assert urlsplit(meta.get("og:url", "")).path == urlsplit(url).path
    assert meta.get("og:description")
    assert meta.get("twitter:card") in ("summary", "summary_large_image")

    hrefs = [link["href"] for link in page["links"]]
    assert f"{url}.ics" in [h.split("?")[0] for h in hrefs], hrefs
    assert any(urlsplit(h).hostname == "calendar.google.com" for h in hrefs), hrefs
    assert any("outlook" in (urlsplit(h).hostname or "") for h in hrefs), hrefs
    assert "Ajouter à mon agenda" in page["text"]
    maps = [h for h in hrefs if (urlsplit(h).hostname or "").endswith("openstreetmap.org")]
    assert maps, "no map link"
    found = numbers(maps[0])
    assert any(abs(n - 48.8686) < 1e-3 for n in found) and any(
        abs(n - 2.3933) < 1e-3 for n in found
    )
    assert page["frames"] == 0, "no map frame, no embedded third party"

    assert visit.requests_off(service.url) == []
    assert visit.page.context.cookies() == []
    visit.assert_inert()
    assert axe(visit.page) == []


@pytest.mark.parametrize(
    ("key", "status", "word"),
    [("cancelled", "EventCancelled", "Annulé"), ("postponed", "EventPostponed", "Reporté")],
)
def test_cancelled_and_postponed_are_marked(
    service: Service, browse: Browse, screenshot: Screenshot, key: str, status: str, word: str
) -> None:
    visit, page = open_event(browse, service, key)
    screenshot(visit.page, f"event-page-{key}")
    assert schema(page["event"]["eventStatus"], status)
    assert word in page["text"]
    visit.assert_inert()


def test_online_event(service: Service, browse: Browse) -> None:
    visit, page = open_event(browse, service, "online")
    ld = page["event"]
    assert schema(ld["eventAttendanceMode"], "OnlineEventAttendanceMode")
    locations = ld["location"] if isinstance(ld["location"], list) else [ld["location"]]
    assert any(place.get("@type") == "VirtualLocation" for place in locations)
    visit.assert_inert()


def test_image_in_json_ld_and_card(service: Service, browse: Browse, axe: Axe) -> None:
    visit, page = open_event(browse, service, "illustrated")
    assert IMAGE_URL in json.dumps(page["event"].get("image"))
    assert page["meta"].get("og:image") == IMAGE_URL
    assert page["meta"].get("twitter:card") == "summary_large_image"
    # The organiser's picture, on another site, is linked and never loaded.
    assert visit.requests_off(service.url) == []
    assert visit.page.locator(f'a[href="{IMAGE_URL}"]').count() == 1
    visit.assert_inert()
    assert axe(visit.page) == []


def test_hostile_event_page_runs_nothing(
    service: Service, browse: Browse, screenshot: Screenshot
) -> None:
    raw = service.get(f"/events/{service.events['hostile'].slug}")
    assert raw.status == 200
    for smuggled in ("<script>alert", "<img src=x", "<b onmouseover", 'href="javascript:'):
        assert smuggled not in raw.text
    # The JSON-LD cannot close its script element: one opening and one closing tag.
    blocks = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', raw.text, flags=re.DOTALL
    )
    assert len(blocks) == 1 and "</" not in blocks[0]
    assert find_event(json.loads(blocks[0]))["name"] == HOSTILE_TITLE  # type: ignore[index]

    visit, page = open_event(browse, service, "hostile")
    screenshot(visit.page, "event-page-hostile")
    assert page["h1"] == HOSTILE_TITLE
    assert page["meta"].get("og:title") == HOSTILE_TITLE
    assert page["event"]["name"] == HOSTILE_TITLE
    assert page["event"]["location"]["name"] == HOSTILE_PLACE
    assert HOSTILE_PLACE in page["text"]
    for link in page["links"]:
        assert urlsplit(link["href"]).scheme in ("http", "https"), link
    visit.page.get_by_text("Voltaire", exact=False).first.hover()
    assert visit.requests_off(service.url) == []
    visit.assert_inert()


def test_english_page(service: Service, browse: Browse, screenshot: Screenshot) -> None:
    visit, page = open_event(browse, service, "concert", "?lang=en")
    screenshot(visit.page, "event-page-en")
    assert page["lang"] == "en"
    assert page["h1"] == "Solidarity concert for eastern DR Congo"
    assert "Ajouter à mon agenda" not in page["text"]
    visit.assert_inert()
