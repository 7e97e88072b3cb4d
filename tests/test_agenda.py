"""The public agenda ``/agenda``: every upcoming event in pages, filters and search (each state a
plain URL), the past as an archive, and the month grid ``/agenda/{year}/{month}``; the same
full-text search behind ``q=`` of the JSON API and of the editors' list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.settings import Settings
from tests.conftest import make_settings
from tests.htmltree import Node
from tests.test_pages import (
    BASE,
    FR_MONTHS,
    assert_safe_page,
    assert_strict_headers,
    day,
    get_page,
    make,
    titled,
)

HOSTILE_QUERIES = [
    '"',
    '"unbalanced',
    "*",
    "NEAR(a b)",
    "a OR b AND NOT c",
    "col:value",
    "a & b | !c",
    "a:* <-> b",
    "'; DROP TABLE events; --",
    "\u0000",
    "ü" * 300,
    "^$%()[]{}",
]


@pytest.fixture
def site(migrated: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    settings = make_settings(migrated.database_url, base_url=BASE)
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


def titles(doc: Node) -> list[str]:
    """The titles the page lists, in order."""
    found = []
    for item in doc.by_class("event"):
        [heading] = item.all("h3")
        found.append(heading.words())
    return found


def agenda(site: TestClient, query: str = "") -> Node:
    response, doc = get_page(site, "/agenda" + (f"?{query}" if query else ""))
    assert_strict_headers(response)
    assert_safe_page(doc)
    return doc


def next_link(doc: Node) -> str | None:
    found = [a.attrs["href"] for a in doc.all("a") if a.attrs.get("rel") == "next"]
    return found[0] if found else None


def test_every_upcoming_event_each_series_once_then_every_date(
    site: TestClient, editor: dict[str, str]
) -> None:
    make(site, editor, 2, title=titled("Permanence"), recurrence={"rrule": "FREQ=WEEKLY;COUNT=13"})
    make(site, editor, 3, title=titled("Concert"))
    make(site, editor, 40, title=titled("Projection"))
    make(site, editor, 200, title=titled("Fête de l'été"))
    make(site, editor, -3, title=titled("Hier"))
    make(site, editor, 5, title=titled("Brouillon"), state="draft")
    doc = agenda(site)
    assert titles(doc) == [
        "Permanence (fr)",
        "Concert (fr)",
        "Projection (fr)",
        "Fête de l'été (fr)",
    ]
    [series] = [e for e in doc.by_class("event") if "Permanence" in e.words()]
    assert "et 12 autre(s) date(s)" in series.words()
    # Under a heading per day, with its date.
    headings = [h.all("time")[0].attrs["datetime"] for h in doc.all("h2") if h.all("time")]
    assert headings[:2] == [day(2).isoformat(), day(3).isoformat()]
    every = titles(agenda(site, "dates=all"))
    assert every.count("Permanence (fr)") == 13
    assert every.index("Projection (fr)") > every.index("Concert (fr)")


def test_pages_follow_one_another_with_no_repeat(
    site: TestClient, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from calendar_service.web.public import agenda as page

    monkeypatch.setattr(page, "PAGE", 3)
    for n in range(8):
        make(site, editor, 1 + n, title=titled(f"Soirée {n}"))
    seen: list[str] = []
    url: str | None = "/agenda"
    while url:
        _, doc = get_page(site, url)
        seen.extend(titles(doc))
        url = next_link(doc)
        assert url is None or "after=" in url
    assert seen == [f"Soirée {n} (fr)" for n in range(8)]


def test_filters_are_plain_urls(site: TestClient, editor: dict[str, str]) -> None:
    make(
        site,
        editor,
        2,
        title=titled("Atelier"),
        category="atelier",
        tags=["droits"],
        location={"name": "MJC", "city": "Évry-Courcouronnes"},
        price={"fr": "Entrée libre"},
        accessibility={"features": ["wheelchair"]},
    )
    make(
        site,
        editor,
        3,
        title=titled("Webinaire"),
        attendance_mode="online",
        online_url="https://meet.example.org/x",
        location=None,
        price={"fr": "5 €"},
    )
    make(
        site,
        editor,
        4,
        title=titled("Concert"),
        location={"name": "Salle", "city": "Paris"},
        price={"fr": "8 €"},
    )
    assert titles(agenda(site, "category=atelier")) == ["Atelier (fr)"]
    assert titles(agenda(site, "tag=droits")) == ["Atelier (fr)"]
    # The city, accents and capitals aside; the form offers the cities of upcoming events.
    doc = agenda(site, "city=EVRY-COURCOURONNES")
    assert titles(doc) == ["Atelier (fr)"]
    options = [o.words() for o in doc.by_id("city").all("option")]
    assert "Évry-Courcouronnes" in options and "Paris" in options
    assert titles(agenda(site, "online=1")) == ["Webinaire (fr)"]
    assert titles(agenda(site, "free=1")) == ["Atelier (fr)"]
    assert titles(agenda(site, "accessible=1")) == ["Atelier (fr)"]
    assert titles(agenda(site, f"from={day(3)}&to={day(3)}")) == ["Webinaire (fr)"]
    assert titles(agenda(site, "when=today")) == []
    week_end = day(0) + timedelta(days=6 - day(0).weekday())
    made = [(2, "Atelier"), (3, "Webinaire"), (4, "Concert")]
    in_week = [f"{name} (fr)" for n, name in made if day(n) <= week_end]
    assert titles(agenda(site, "when=week")) == in_week
    # A mistaken value falls back to its default: the page shows something, not an error.
    assert len(titles(agenda(site, "category=nope&when=soon&from=2027-13-45&page=x"))) == 3
    # Filters are kept in the other language's link.
    doc = agenda(site, "category=atelier")
    [switch] = [a for a in doc.all("a") if a.attrs.get("hreflang") == "en"]
    assert parse_qs(urlsplit(switch.attrs["href"]).query) == {
        "category": ["atelier"],
        "lang": ["en"],
    }


def test_search_ignores_accents_and_case_in_both_languages_ranked(
    site: TestClient, editor: dict[str, str]
) -> None:
    make(
        site,
        editor,
        5,
        title={"fr": "Ciné-débat", "en": "Film and debate"},
        summary={"fr": "Une soirée sur l'exil"},
    )
    make(
        site,
        editor,
        2,
        title={"fr": "Concert"},
        description={"fr": "Suivi d'un débat avec le public."},
    )
    make(
        site,
        editor,
        3,
        title={"fr": "Permanence juridique"},
        location={"name": "Maison des Ensembles", "city": "Saint-Denis"},
        organizer={"name": "La Cimade"},
    )
    # The title outranks the description, whatever their dates.
    assert titles(agenda(site, "q=DEBAT")) == ["Ciné-débat", "Concert"]
    assert titles(agenda(site, "q=film")) == ["Ciné-débat"]  # the English title
    assert titles(agenda(site, "q=exil")) == ["Ciné-débat"]  # the summary
    assert titles(agenda(site, "q=saint-denis")) == ["Permanence juridique"]  # the place
    assert titles(agenda(site, "q=cimade")) == ["Permanence juridique"]  # the organiser
    assert titles(agenda(site, "q=perma juri")) == ["Permanence juridique"]  # prefixes, all
    assert titles(agenda(site, "q=perma film")) == []
    doc = agenda(site, "q=debat")
    [count] = doc.by_class("count")
    assert count.words() == "2 résultat(s) pour « debat »"
    # The same search serves the JSON API.
    found = site.get("/api/events", params={"q": "Débat"}).json()["items"]
    assert sorted(e["title"]["fr"] for e in found) == ["Ciné-débat", "Concert"]


def test_the_search_follows_every_edit_and_deletion(
    site: TestClient, editor: dict[str, str], admin: dict[str, str]
) -> None:
    """The index is kept in step by the database itself (triggers on SQLite, a generated column
    on PostgreSQL), through every migration: an edit is found at once, by its new words only."""
    kept = make(site, editor, 4, title=titled("Atelier d'écriture"))
    gone = make(site, editor, 6, title=titled("Atelier de couture"))
    assert titles(agenda(site, "q=atelier")) == [
        "Atelier d'écriture (fr)",
        "Atelier de couture (fr)",
    ]
    changed = site.patch(
        f"/api/events/{kept['id']}", json={"title": titled("Chorale")}, headers=editor
    )
    assert changed.status_code == 200, changed.text
    assert site.delete(f"/api/events/{gone['id']}", headers=admin).status_code == 204
    assert titles(agenda(site, "q=atelier")) == []
    assert titles(agenda(site, "q=chorale")) == ["Chorale (fr)"]
    found = site.get("/api/events", params={"q": "chorale"}).json()["items"]
    assert [e["id"] for e in found] == [kept["id"]]
    assert site.get("/api/events", params={"q": "couture"}).json()["items"] == []


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_search_syntax_is_never_read_as_a_query_language(
    site: TestClient, editor: dict[str, str], query: str
) -> None:
    make(site, editor, 2, title=titled("Concert"))
    response = site.get("/agenda", params={"q": query})
    assert response.status_code == 200
    api = site.get("/api/events", params={"q": query})
    assert api.status_code in (200, 400), api.text


def test_the_past_is_an_archive_latest_first(site: TestClient, editor: dict[str, str]) -> None:
    make(site, editor, -40, title=titled("Il y a longtemps"))
    make(site, editor, -3, title=titled("Récemment"))
    make(site, editor, 3, title=titled("Bientôt"))
    doc = agenda(site, "period=past")
    assert titles(doc) == ["Récemment (fr)", "Il y a longtemps (fr)"]
    assert all("Passé" in e.words() for e in doc.by_class("event"))
    assert titles(agenda(site, "period=past&q=longtemps")) == ["Il y a longtemps (fr)"]
    # A made-up page cursor starts again from the first page, in both lists.
    assert titles(agenda(site, "period=past&after=nonsense")) == titles(doc)
    assert titles(agenda(site, "after=nonsense")) == ["Bientôt (fr)"]


def test_the_archive_shows_a_past_series_at_its_last_date(
    site: TestClient, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A weekly series that began 10 weeks ago and ended last week is more recent than a one-off
    of a month ago: it is listed first, at its last date, as the last of its dates; the pages
    follow one another by last date."""
    from calendar_service.web.public import agenda as page

    make(
        site,
        editor,
        -70,
        title=titled("Permanence"),
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=10"},
    )  # the last on day -7
    make(site, editor, -30, title=titled("Projection"))
    make(site, editor, -50, title=titled("Concert"))
    doc = agenda(site, "period=past")
    assert titles(doc) == ["Permanence (fr)", "Projection (fr)", "Concert (fr)"]
    [series] = [e for e in doc.by_class("event") if "Permanence" in e.words()]
    [shown] = series.all("time")
    assert shown.attrs["datetime"].startswith(day(-7).isoformat())
    assert "la dernière de 10 dates" in series.words()
    english = agenda(site, "period=past&lang=en")
    assert any("the last of 10 dates" in e.words() for e in english.by_class("event"))
    monkeypatch.setattr(page, "PAGE", 1)
    seen = []
    query: str | None = "period=past"
    while query is not None:
        doc = agenda(site, query)
        seen.extend(titles(doc))
        link = next_link(doc)
        query = urlsplit(link).query if link else None
    assert seen == ["Permanence (fr)", "Projection (fr)", "Concert (fr)"]


def test_month_grid(site: TestClient, editor: dict[str, str]) -> None:
    target = day(40)
    for n in range(5):
        make(site, editor, 40, title=titled(f"Même jour {n}"))
    make(site, editor, 41, title=titled("Lendemain"))
    path = f"/agenda/{target:%Y/%m}"
    response, doc = get_page(site, path)
    assert_strict_headers(response)
    assert_safe_page(doc)
    [table] = doc.all("table")
    [caption] = table.all("caption")
    assert FR_MONTHS[target.month - 1] in caption.words().lower()
    headers = table.all("th")
    assert len(headers) == 7 and all(h.attrs.get("scope") == "col" for h in headers)
    [cell] = [
        td
        for td in table.all("td")
        if any(t.attrs.get("datetime") == target.isoformat() for t in td.all("time"))
    ]
    shown = [a.words() for li in cell.all("li") for a in li.all("a")]
    assert len(shown) == 3 and all(s.startswith("Même jour") for s in shown)
    [more] = cell.by_class("more")
    assert more.words().startswith("+ 2 autre(s)")
    day_list = more.all("a")[0].attrs["href"]
    _, listed_day = get_page(site, day_list)
    assert sorted(titles(listed_day)) == [f"Même jour {n} (fr)" for n in range(5)]
    # Previous and next months, and a month far away, answer; a month that is none does not.
    links = {a.attrs.get("rel"): a.attrs["href"] for a in doc.all("a") if a.attrs.get("rel")}
    assert get_page(site, links["next"])[0].status_code == 200
    assert get_page(site, links["prev"])[0].status_code == 200
    for bad in ("/agenda/2027/13", "/agenda/2027/00", "/agenda/1999/05", "/agenda/2027/5"):
        assert site.get(bad).status_code == 404, bad
    today = date.today()
    _, now = get_page(site, f"/agenda/{today:%Y/%m}")
    marked = [td for td in now.all("td") if td.attrs.get("aria-current") == "date"]
    assert len(marked) == 1


def test_every_page_links_to_the_agenda(site: TestClient, editor: dict[str, str]) -> None:
    event = make(site, editor, 2)
    for path in ("/", f"/events/{event['slug']}", "/embed", "/newsletter", "/proposer"):
        _, doc = get_page(site, path)
        assert any(a.attrs.get("href") == "/agenda" for a in doc.all("a")), path


def test_an_event_with_a_broken_row_leaves_the_agenda_standing(
    site: TestClient, editor: dict[str, str], migrated: Settings
) -> None:
    from tests.conftest import run_on

    make(site, editor, 2, title=titled("Debout"))
    broken = make(site, editor, 3, title=titled("Cassé"))

    async def corrupt(storage: Any) -> None:
        await storage.execute(
            f"UPDATE events SET timezone = 'Factory', document = replace(document, "
            f"'Europe/Paris', 'Factory') WHERE id = {broken['id']}"
        )

    run_on(migrated, corrupt)
    site.app.state.rendered.clear()  # type: ignore[attr-defined]
    assert "Debout (fr)" in titles(agenda(site))
    assert get_page(site, f"/agenda/{day(3):%Y/%m}")[0].status_code == 200
