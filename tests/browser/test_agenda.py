"""The public agenda in a real browser: its filters, search, pages and month grid with
JavaScript on and off; accessible (axe-core) in French and English, on a desktop and on a
390 px phone, where nothing scrolls sideways. Then the widget and the iframe when the next
events are months away."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import Axe, Browse, Partner, Screenshot, Service
from tests.browser.test_widget import open_widget

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

READ_AGENDA = """() => ({
  titles: [...document.querySelectorAll(".event h3")].map((h) => h.textContent.trim()),
  next: document.querySelector("a[rel=next]")?.getAttribute("href") || null,
  table: !!document.querySelector("table.month"),
  sideways: document.documentElement.scrollWidth > document.documentElement.clientWidth,
})"""


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_filters_search_pages_and_month(
    service: Service, browse: Browse, screenshot: Screenshot, javascript: bool
) -> None:
    visit = browse(f"{service.url}/agenda", java_script_enabled=javascript)
    page = visit.page
    first = visit.eval(READ_AGENDA)
    assert first["titles"], "the agenda lists nothing"
    # Search: typed, sent by the form, a URL that says it.
    page.fill("#q", "ECRITURE")
    page.click("form.agenda-form button[type=submit]")
    page.wait_for_load_state()
    assert query_of(page.url)["q"] == ["ECRITURE"]
    found = visit.eval(READ_AGENDA)["titles"]
    assert found == ["Atelier d'écriture solidaire"], found
    # A filter, with the search cleared.
    page.goto(f"{service.url}/agenda")
    page.click("details.filters summary")
    page.select_option("#category", "permanence")
    page.click("form.agenda-form button[type=submit]")
    page.wait_for_load_state()
    assert query_of(page.url)["category"] == ["permanence"]
    shown = visit.eval(READ_AGENDA)["titles"]
    assert "Permanence d'été" in shown and "Atelier d'écriture solidaire" not in shown
    # Pages: every date of every series runs past one page.
    page.goto(f"{service.url}/agenda?dates=all")
    listed = visit.eval(READ_AGENDA)
    assert listed["next"], "no next page"
    page.click("a[rel=next]")
    page.wait_for_load_state()
    following = visit.eval(READ_AGENDA)
    assert following["titles"] and "after" in query_of(page.url)
    # The month grid, then the next month.
    page.goto(f"{service.url}/agenda")
    page.click("nav.views >> text=Vue par mois")
    page.wait_for_load_state()
    assert visit.eval(READ_AGENDA)["table"]
    before = page.url
    page.click("a[rel=next]")
    page.wait_for_load_state()
    assert page.url != before and visit.eval(READ_AGENDA)["table"]
    screenshot(page, f"agenda-month-{'js' if javascript else 'nojs'}")
    visit.assert_inert()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_view_is_accessible_and_fits(
    service: Service,
    browse: Browse,
    axe: Axe,
    screenshot: Screenshot,
    lang: str,
    viewport: dict[str, int],
) -> None:
    from datetime import date

    month = date.today().strftime("%Y/%m")
    suffix = "" if lang == "fr" else "lang=en"
    views = {
        "list": f"/agenda?{suffix}",
        "month": f"/agenda/{month}?{suffix}",
        "search": f"/agenda?q=solidaire&{suffix}",
        "empty": f"/agenda?q=zzzzqqqq&{suffix}",
        "past": f"/agenda?period=past&{suffix}",
    }
    for name, path in views.items():
        visit = browse(f"{service.url}{path}", viewport=viewport)
        assert visit.response is not None and visit.response.status == 200, path
        read = visit.eval(READ_AGENDA)
        assert not read["sideways"], f"{name} scrolls sideways at {viewport['width']} px"
        assert axe(visit.page) == [], f"{name} ({lang}, {viewport['width']} px)"
        assert visit.eval("() => document.documentElement.lang") == lang
        if viewport is PHONE:
            screenshot(visit.page, f"agenda-{name}-{lang}-phone")
        visit.assert_inert()


def test_the_month_reads_as_a_list_of_days_on_a_phone(service: Service, browse: Browse) -> None:
    from datetime import date

    month = date.today().strftime("%Y/%m")
    visit = browse(f"{service.url}/agenda/{month}", viewport=PHONE)
    shown = visit.eval(
        """() => [...document.querySelectorAll("table.month td")]
             .filter((td) => getComputedStyle(td).display !== "none")
             .map((td) => ({
               label: td.querySelector(".weekday")?.innerText || "",
               events: td.querySelectorAll("li").length,
             }))"""
    )
    assert shown, "no day shows"
    assert all(day["label"] for day in shown)  # each day names itself ("jeudi 10 décembre")
    assert sum(day["events"] for day in shown) > 0


def _titles(content: Any) -> list[str]:
    return [item["links"][0]["text"] for item in content["items"]]


def test_the_widget_shows_the_next_events_months_away(
    service: Service, browse: Browse, partner: Partner
) -> None:
    _, content = open_widget(browse, partner, tag="lointain", limit="5", lang="fr")
    titles = _titles(content)
    assert len(titles) == 5, titles
    assert titles[:2] == ["Permanence d'été", "Soirée lointaine 0"]
    _, content = open_widget(browse, partner, tag="lointain", limit="5", lang="fr", once="")
    assert _titles(content) == ["Permanence d'été", *[f"Soirée lointaine {n}" for n in range(4)]]


def test_the_iframe_shows_the_next_events_months_away(
    service: Service, browse: Browse, partner: Partner
) -> None:
    visit = browse(partner.iframe_page(tag="lointain", limit="5", once="1"))
    frame = visit.page.frame_locator("iframe")
    titles = [t.strip() for t in frame.locator(".event .title a").all_inner_texts()]
    assert len(titles) == 5, titles
    assert titles[0].startswith("Permanence d'été")
