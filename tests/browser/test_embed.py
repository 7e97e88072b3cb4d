"""The iframe embed ``/embed/{feed}`` (framed by a partner site, with and without JavaScript)
and the embed builder ``/embed``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import (
    HOSTILE_TITLE,
    Axe,
    Browse,
    Partner,
    Screenshot,
    Service,
    origin_of,
)

pytestmark = pytest.mark.browser

QUERY = {"limit": "5", "lang": "fr"}

# Every link of a document: address, the text a reader sees (visually hidden parts left out)
# and the whole text; the datetime of every <time>.
READ_LINKS = """() => {
  const visible = (a) => {
    let text = "";
    const walker = document.createTreeWalker(a, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const box = walker.currentNode.parentElement.getBoundingClientRect();
      if (box.width > 1 && box.height > 1) text += walker.currentNode.data;
    }
    return text.replace(/\\s+/g, " ").trim();
  };
  return {
    links: [...document.querySelectorAll("a[href]")].map((a) => ({
      href: a.href, text: visible(a), full: a.textContent,
    })),
    times: [...document.querySelectorAll("time[datetime]")].map((t) => t.getAttribute("datetime")),
    lang: document.documentElement.lang,
    text: document.body.innerText,
  };
}"""

HEIGHT_RECEIVED = """(origin) => window.__messages.some((m) => m.origin === origin && m.data
  && typeof m.data === "object" && typeof m.data.height === "number" && m.data.height > 0)"""


def path_of(url: str) -> str:
    return urlsplit(url).path


def assert_lists(content: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    """Each occurrence, in order, as a link to its page titled as the API titles it."""
    assert expected
    where = -1
    for occurrence in expected:
        page = path_of(occurrence["links"]["page"])
        found = [
            (i, link)
            for i, link in enumerate(content["links"])
            if path_of(link["href"]) == page and i > where
        ]
        assert found, f"no link to {page} after link {where}: {content['links']}"
        where, link = found[0]
        assert link["text"] == occurrence["title"]
    assert len(content["times"]) == len(expected)


def test_embed_may_be_framed_by_anyone_and_carries_no_markup_from_events(
    service: Service,
) -> None:
    response = service.get("/embed/agenda", **QUERY)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors *" in policy, policy
    assert "x-frame-options" not in response.headers
    assert "set-cookie" not in response.headers
    for smuggled in ("<script>alert", "<img src=x", "<b onmouseover"):
        assert smuggled not in response.text


def test_embed_works_without_javascript(
    service: Service, browse: Browse, screenshot: Screenshot
) -> None:
    visit = browse(f"{service.url}/embed/agenda?limit=5&lang=fr", java_script_enabled=False)
    screenshot(visit.page, "embed-nojs")
    assert_lists(visit.eval(READ_LINKS), service.occurrences(feed="agenda", **QUERY))
    assert visit.requests_off(service.url) == []
    visit.assert_inert()


def test_partner_iframe_renders_without_javascript(
    service: Service, partner: Partner, browse: Browse, screenshot: Screenshot
) -> None:
    visit = browse(partner.iframe_page("agenda", **QUERY), java_script_enabled=False)
    screenshot(visit.page, "embed-partner-iframe-nojs")
    frames = [f for f in visit.page.frames if f.url.startswith(f"{service.url}/embed/agenda")]
    assert len(frames) == 1, [f.url for f in visit.page.frames]
    assert_lists(frames[0].evaluate(READ_LINKS), service.occurrences(feed="agenda", **QUERY))
    assert visit.requests_off(origin_of(partner.url), service.url) == []
    visit.assert_inert()


def test_partner_iframe_tells_its_height_and_stays_inert(
    service: Service, partner: Partner, browse: Browse, screenshot: Screenshot, axe: Axe
) -> None:
    visit = browse(partner.iframe_page("agenda", **QUERY))
    visit.page.wait_for_function(HEIGHT_RECEIVED, arg=service.url)
    frame = next(f for f in visit.page.frames if f.url.startswith(f"{service.url}/embed/"))
    content = frame.evaluate(READ_LINKS)
    assert_lists(content, service.occurrences(feed="agenda", **QUERY))
    assert HOSTILE_TITLE in [link["text"] for link in content["links"]]
    # The partner sized the frame from the messages: the whole list shows, without scrolling.
    for _ in range(30):
        box = visit.page.locator("iframe").bounding_box()
        height = frame.evaluate("() => document.documentElement.scrollHeight")
        if box is not None and abs(box["height"] - height) <= 2:
            break
        visit.page.wait_for_timeout(100)
    assert box is not None and abs(box["height"] - height) <= 2, (box, height)
    screenshot(visit.page, "embed-partner-iframe")
    assert visit.requests_off(origin_of(partner.url), service.url) == []
    assert visit.page.context.cookies() == []
    visit.page.mouse.move(400, 400)
    visit.assert_inert()
    assert axe(visit.page) == []


@pytest.mark.parametrize(("layout", "lang"), [("list", "fr"), ("compact", "fr"), ("cards", "en")])
def test_embed_layouts_and_languages_are_accessible(
    service: Service, browse: Browse, screenshot: Screenshot, axe: Axe, layout: str, lang: str
) -> None:
    visit = browse(f"{service.url}/embed/agenda?limit=25&lang={lang}&layout={layout}")
    screenshot(visit.page, f"embed-{layout}-{lang}")
    content = visit.eval(READ_LINKS)
    # The embed looks a year ahead (CALENDAR_LOOKAHEAD_DAYS); the API, 90 days unless told.
    horizon = (date.today() + timedelta(days=365)).isoformat()
    expected = service.occurrences(feed="agenda", limit=25, lang=lang, to=horizon)
    assert_lists(content, expected)
    assert content["lang"] == lang
    marks = {"fr": ("Annulé", "Reporté"), "en": ("Cancelled", "Postponed")}[lang]
    for mark in marks:
        assert mark in content["text"], f"{mark!r} not shown"
    if lang == "en":
        assert "Ajouter à mon agenda" not in content["text"]
    assert visit.requests_off(service.url) == []
    visit.assert_inert()
    assert axe(visit.page) == []


def test_embed_filters(service: Service, browse: Browse) -> None:
    for name, value in (("category", "concert"), ("tag", "paris")):
        visit = browse(f"{service.url}/embed/agenda?limit=10&lang=fr&{name}={value}")
        expected = service.occurrences(feed="agenda", limit=10, lang="fr", **{name: value})
        assert_lists(visit.eval(READ_LINKS), expected)


# --- the builder -------------------------------------------------------------------------------

READ_BUILDER = """() => ({
  controls: [...document.querySelectorAll("form select, form input, form textarea")]
    .filter((c) => c.type !== "hidden").map((c) => c.name || c.id),
  snippets: [...document.querySelectorAll("textarea, pre, code, output")]
    .map((e) => e.value !== undefined && e.localName === "textarea" ? e.value : e.textContent),
  widgets: [...document.querySelectorAll("calendar-events")].map((e) => e.getAttribute("layout")),
  frames: [...document.querySelectorAll("iframe")].map((f) => f.src),
})"""


def _preview_layouts(state: dict[str, Any]) -> list[str]:
    layouts = [layout or "list" for layout in state["widgets"]]
    for src in state["frames"]:
        layouts.extend(parse_qs(urlsplit(src).query).get("layout", ["list"]))
    return layouts


def test_builder_previews_and_gives_both_snippets(
    service: Service, browse: Browse, screenshot: Screenshot, axe: Axe
) -> None:
    visit = browse(f"{service.url}/embed")
    assert visit.response is not None and visit.response.status == 200
    state = visit.eval(READ_BUILDER)
    assert {"feed", "layout", "lang"} <= set(state["controls"]), state["controls"]
    assert state["widgets"] or state["frames"], "no preview"
    code = "\n".join(state["snippets"])
    assert f'<script src="{service.url}/widget.js"' in code
    assert "<calendar-events" in code
    assert f'<iframe src="{service.url}/embed/agenda?' in code
    screenshot(visit.page, "embed-builder")
    assert visit.requests_off(service.url) == []
    visit.assert_inert()
    assert axe(visit.page) == []

    # Choosing another layout shows it in the preview and the snippets (live, or on submit).
    from playwright.sync_api import TimeoutError as Timeout

    visit.page.select_option("select[name=layout]", "cards")
    try:
        visit.page.wait_for_function(
            "() => [...document.querySelectorAll('textarea, pre, code, output')]"
            ".some((e) => (e.value || e.textContent).includes('cards'))",
            timeout=2_000,
        )
    except Timeout:  # no live update: the form's submit button
        with visit.page.expect_navigation():
            visit.page.locator("form [type=submit]").first.click()
    state = visit.eval(READ_BUILDER)
    assert "cards" in _preview_layouts(state), state
    assert 'layout="cards"' in "\n".join(state["snippets"])
    assert "layout=cards" in "\n".join(state["snippets"])
    visit.assert_nothing_ran()
