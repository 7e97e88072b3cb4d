"""The ``<calendar-events>`` web component, embedded by a partner site on another origin."""

from __future__ import annotations

import gzip
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import (
    HOSTILE_TITLE,
    Axe,
    Browse,
    Partner,
    Screenshot,
    Service,
    Visit,
    fetch,
    origin_of,
)

pytestmark = pytest.mark.browser

WIDGET_BUDGET = 10 * 1024  # bytes, gzipped
STATUS_WORDS = {
    "fr": {"cancelled": "Annulé", "postponed": "Reporté"},
    "en": {"cancelled": "Cancelled", "postponed": "Postponed"},
}

# What the component shows, read from its open shadow root.
READ_WIDGET = """(host) => {
  const root = host.shadowRoot;
  if (!root) return null;
  const links = (scope) => [...scope.querySelectorAll("a[href]")].map((a) => ({
    href: a.href, text: a.textContent.trim(), shown: a.innerText.trim(),
  }));
  return {
    headings: [...root.querySelectorAll("h1, h2, h3, h4, h5, h6, [role=heading]")]
      .filter((h) => !h.closest("li") && !h.hidden).map((h) => h.textContent.trim()),
    lists: root.querySelectorAll("ul").length,
    items: [...root.querySelectorAll("li")].map((li) => ({
      text: li.textContent,
      shown: li.innerText,
      links: links(li),
      times: [...li.querySelectorAll("time")].map((t) => t.getAttribute("datetime")),
    })),
    links: links(root),
    text: root.textContent,
  };
}"""

ITEMS_SHOWN = """() => {
  const host = document.querySelector("calendar-events");
  const root = host && host.shadowRoot;
  if (!root) return false;
  if (root.querySelectorAll("li").length > 0) return true;
  const busy = root.querySelector("[aria-busy=true]");
  return !busy && /aucun|no upcoming|pas pu|could not/i.test(root.textContent);
}"""


def path_of(url: str) -> str:
    return urlsplit(url).path


def open_widget(browse: Browse, partner: Partner, **attributes: str) -> tuple[Visit, Any]:
    """The partner page with ``<calendar-events attributes>``, once the events are in."""
    visit = browse(partner.widget_page(**attributes))
    visit.page.wait_for_function(ITEMS_SHOWN)
    content = visit.page.locator("calendar-events").evaluate(READ_WIDGET)
    assert content is not None, "no open shadow root on <calendar-events>"
    return visit, content


def assert_shows(content: Any, expected: list[dict[str, Any]], lang: str) -> None:
    """One item per occurrence, in order, each with its link, time, place and marks."""
    assert len(content["items"]) == len(expected), [i["shown"] for i in content["items"]]
    for item, occurrence in zip(content["items"], expected, strict=True):
        title = occurrence["title"]
        page_links = [
            link
            for link in item["links"]
            if path_of(link["href"]) == path_of(occurrence["links"]["page"])
        ]
        assert page_links, f"no link to {occurrence['links']['page']} in {item['links']}"
        assert page_links[0]["text"] == title
        assert occurrence["start"] in item["times"]
        ics = [link for link in item["links"] if path_of(link["href"]).endswith(".ics")]
        if occurrence["status"] == "cancelled":
            assert ics == [], f"a cancelled event offered to calendars: {title!r}"
        else:
            assert ics, f"no .ics link for {title!r}"
            assert path_of(ics[0]["href"]) == path_of(occurrence["links"]["ics"])
        words = STATUS_WORDS[lang]
        if occurrence["status"] in words:
            assert words[occurrence["status"]] in item["text"], item["shown"]


def test_widget_js_is_under_10_kb_gzipped(service: Service) -> None:
    """The bytes served, gzipped by the service if it does, else as `gzip` (level 6) would."""
    response = service.get("/widget.js")
    assert response.status == 200
    assert "javascript" in response.headers["content-type"]
    served = fetch(f"{service.url}/widget.js", headers={"Accept-Encoding": "gzip"})
    if served.headers.get("content-encoding") == "gzip":
        size = len(served.body)
        assert gzip.decompress(served.body) == response.body
    else:
        size = len(gzip.compress(response.body, compresslevel=6, mtime=0))
    assert size < WIDGET_BUDGET, f"widget.js is {size} bytes gzipped"


def test_partner_site_shows_the_upcoming_events(
    service: Service, partner: Partner, browse: Browse, screenshot: Screenshot
) -> None:
    visit, content = open_widget(browse, partner, feed="agenda", limit="5", lang="fr")
    screenshot(visit.page, "widget-partner-fr")
    expected = service.occurrences(feed="agenda", limit=5, lang="fr")
    assert len(expected) == 5
    assert_shows(content, expected, "fr")
    assert content["headings"], "the widget has no heading"
    assert content["lists"] == 1
    for item, occurrence in zip(content["items"], expected, strict=True):
        location = occurrence["location"] or {}
        if occurrence["attendance_mode"] == "online":
            assert "En ligne" in item["text"]
        elif location.get("name"):
            assert location["name"] in item["text"]
        offered = "Ajouter à mon agenda" in item["text"]
        assert offered == (occurrence["status"] != "cancelled")
    subscribe = [link for link in content["links"] if path_of(link["href"]) == "/feeds/agenda.ics"]
    assert subscribe, f"no subscribe link in {content['links']}"
    # The page asked only itself and the service; nothing was stored in the browser.
    assert visit.requests_off(origin_of(partner.url), service.url) == []
    assert visit.page.context.cookies() == []
    assert visit.eval("() => localStorage.length + sessionStorage.length") == 0
    visit.assert_nothing_ran()


def test_hostile_event_shows_as_text_and_runs_nothing(
    service: Service, partner: Partner, browse: Browse
) -> None:
    visit, content = open_widget(browse, partner, feed="agenda", limit="5", lang="fr")
    hostile = service.page_url("hostile")
    titles = [
        link["text"]
        for item in content["items"]
        for link in item["links"]
        if path_of(link["href"]) == path_of(hostile)
    ]
    assert titles == [HOSTILE_TITLE]
    assert any(HOSTILE_TITLE in item["shown"] for item in content["items"])
    visit.page.mouse.move(300, 300)  # over the list: no onmouseover either
    visit.assert_inert()


@pytest.mark.parametrize(("layout", "lang"), [("compact", "fr"), ("cards", "fr"), ("list", "en")])
def test_layouts_and_languages(
    service: Service,
    partner: Partner,
    browse: Browse,
    screenshot: Screenshot,
    layout: str,
    lang: str,
) -> None:
    visit, content = open_widget(
        browse, partner, feed="agenda", limit="25", lang=lang, layout=layout
    )
    screenshot(visit.page, f"widget-{layout}-{lang}")
    expected = service.occurrences(feed="agenda", limit=25, lang=lang)
    statuses = {o["status"] for o in expected}
    assert {"cancelled", "postponed"} <= statuses, "the session's data lacks a status to show"
    assert_shows(content, expected, lang)
    if lang == "en":
        french = ("Ajouter à mon agenda", "En ligne", "S’abonner", "S'abonner", "Annulé")
        assert not [word for word in french if word in content["text"]]
        online = [o for o in expected if o["attendance_mode"] == "online"]
        assert not online or "Online" in content["text"]
    assert visit.requests_off(origin_of(partner.url), service.url) == []
    visit.assert_inert()


def test_origin_attribute_when_the_script_is_served_elsewhere(
    service: Service, partner: Partner, browse: Browse
) -> None:
    """A partner serving its own copy of widget.js names the service with ``origin``."""
    copy = partner.add_file("/js/widget.js", service.get("/widget.js").body, "text/javascript")
    url = partner.add(
        f'<calendar-events feed="agenda" limit="3" origin="{service.url}"></calendar-events>',
        head=f'<script src="{copy}" defer></script>',
    )
    visit = browse(url)
    visit.page.wait_for_function(ITEMS_SHOWN)
    content = visit.page.locator("calendar-events").evaluate(READ_WIDGET)
    assert_shows(content, service.occurrences(feed="agenda", limit=3, lang="fr"), "fr")
    assert visit.requests_off(origin_of(partner.url), service.url) == []
    visit.assert_nothing_ran()


def test_category_and_tag_filters(service: Service, partner: Partner, browse: Browse) -> None:
    _, content = open_widget(
        browse, partner, feed="agenda", limit="10", lang="fr", category="concert"
    )
    assert_shows(
        content, service.occurrences(feed="agenda", limit=10, lang="fr", category="concert"), "fr"
    )
    _, content = open_widget(browse, partner, feed="agenda", limit="10", lang="fr", tag="paris")
    assert_shows(
        content, service.occurrences(feed="agenda", limit=10, lang="fr", tag="paris"), "fr"
    )


FOCUSED_LINK = """() => {
  const host = document.querySelector("calendar-events");
  const active = host.shadowRoot.activeElement;
  if (document.activeElement !== host || !active || active.localName !== "a") return null;
  const style = getComputedStyle(active);
  return {
    href: active.href,
    outlineStyle: style.outlineStyle,
    outlineWidth: style.outlineWidth,
    boxShadow: style.boxShadow,
  };
}"""


def test_keyboard_reaches_the_links_with_a_visible_focus(
    partner: Partner, browse: Browse, screenshot: Screenshot
) -> None:
    visit, content = open_widget(browse, partner, feed="agenda", limit="5", lang="fr")
    focused = None
    for _ in range(5):
        visit.page.keyboard.press("Tab")
        focused = visit.eval(FOCUSED_LINK)
        if focused:
            break
    assert focused, "Tab does not reach a link of the widget"
    assert focused["href"] == content["items"][0]["links"][0]["href"]
    visible = focused["outlineStyle"] != "none" and focused["outlineWidth"] != "0px"
    assert visible or focused["boxShadow"] != "none", f"focus not visible: {focused}"
    screenshot(visit.page, "widget-focus")
    # Every link of the list is reached in order, each with its focus ring.
    seen = [focused["href"]]
    for _ in range(len(content["links"]) - 1):
        visit.page.keyboard.press("Tab")
        now = visit.eval(FOCUSED_LINK)
        if not now:
            break
        seen.append(now["href"])
    assert seen == [link["href"] for link in content["links"]][: len(seen)]
    assert len(seen) == len(content["links"])


def test_widget_page_is_accessible(partner: Partner, browse: Browse, axe: Axe) -> None:
    for layout in ("list", "cards"):
        visit, _ = open_widget(browse, partner, feed="agenda", limit="5", lang="fr", layout=layout)
        assert axe(visit.page) == [], layout
