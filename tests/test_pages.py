"""The public pages: the home page ``GET /`` and each event's page ``GET /events/{id or slug}``.

HTTP-level checks read with the standard library's ``html.parser``: what the pages say (in French
and English), their schema.org JSON-LD, OpenGraph tags and "add to my calendar" links, their
security headers, that they load nothing from another site, and that hostile event text stays
text. What they do in a real browser is checked by the browser tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.settings import Settings
from tests.conftest import make_settings
from tests.factories import create
from tests.htmltree import Node, csp, parse

BASE = "https://agenda.example.org"
PARIS = ZoneInfo("Europe/Paris")
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
LOADING = {"link": "href", "script": "src", "img": "src", "iframe": "src", "source": "src"}
LOADING_MORE = ("video", "audio", "embed", "object", "frame", "portal")
FR_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
FR_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
HOSTILE_TITLE = "</script><script>alert(1)</script>"
HOSTILE_SUMMARY = "<img src=x onerror=alert(1)>"
HOSTILE_DESCRIPTION = (
    "Avant.\n\n<script>alert(2)</script>\n\n[x](javascript:alert(3))\n\n"
    '<a href="javascript:alert(4)" onclick="alert(5)">lien</a>\n\n'
    "![y](javascript:alert(6))"
)
HOSTILE_PLACE = "Chez \"Lulu\" <b>gras</b> & 'fils'"


def assert_strict_headers(response: Any, *, framed: bool = False) -> None:
    """A strict Content-Security-Policy; framing denied (the embed alone may be framed)."""
    policy = csp(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    for directive, sources in policy.items():
        assert "'unsafe-inline'" not in sources, directive
        assert "'unsafe-eval'" not in sources, directive
    assert "*" not in policy.get("style-src", []) and "https:" not in policy.get("style-src", [])
    assert response.headers["x-content-type-options"] == "nosniff"
    if framed:
        assert policy["frame-ancestors"] == ["*"]
        assert "x-frame-options" not in response.headers
    else:
        assert policy["frame-ancestors"] == ["'none'"]
        assert response.headers["x-frame-options"] == "DENY"


def ours(url: str) -> bool:
    """A URL on the service itself: relative to it, or under its base_url."""
    return (url.startswith("/") and not url.startswith("//")) or url.startswith(BASE + "/")


def loaded(doc: Node) -> list[str]:
    """Every URL the page makes the browser fetch (stylesheets, scripts, images, frames)."""
    urls = []
    for node in doc.iter():
        assert node.tag not in LOADING_MORE, f"<{node.tag}> on a page"
        name = LOADING.get(node.tag)
        if name is None:
            continue
        if node.tag == "link" and node.attrs.get("rel") in ("canonical", "alternate"):
            continue  # named, not fetched
        url = node.attrs.get(name)
        if url is not None:
            urls.append(url)
        if node.tag == "img":
            assert "srcset" not in node.attrs
    return urls


def assert_safe_page(doc: Node, *, images: tuple[str, ...] = ()) -> None:
    """What the CSP allows is all the page needs: our scripts only (no inline one but JSON-LD),
    no inline style or handler, no javascript: link, nothing loaded from another site (but
    ``images``, the event's own picture)."""
    for script in doc.all("script"):
        if script.attrs.get("type") == "application/ld+json":
            assert "src" not in script.attrs
            continue
        assert ours(script.attrs.get("src") or ""), script.attrs
        assert script.text().strip() == "", "inline script"
    assert doc.all("style") == []
    assert doc.all("base") == []
    for node in doc.iter():
        assert "style" not in node.attrs, f"style attribute on <{node.tag}>"
        handlers = [a for a in node.attrs if a.lower().startswith("on") and a.lower() != "once"]
        assert not handlers, f"{handlers} on <{node.tag}>"
        for name in ("href", "src", "action", "formaction", "data", "poster"):
            value = (node.attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), node.attrs
    for url in loaded(doc):
        assert ours(url) or url in images, f"{url} is not on {BASE}"


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def site(migrated: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    """The service at a predictable public address, so absolute links can be compared."""
    settings = make_settings(migrated.database_url, base_url=BASE)
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


def day(days: int) -> date:
    return datetime.now(PARIS).date() + timedelta(days=days)


def local(days: int, hour: int = 18, minute: int = 30) -> datetime:
    return datetime.combine(day(days), time(hour, minute), PARIS)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fr_date(value: date) -> str:
    number = "1er" if value.day == 1 else str(value.day)
    return f"{FR_DAYS[value.weekday()]} {number} {FR_MONTHS[value.month - 1]} {value.year}"


def en_date(value: date) -> str:
    return f"{EN_DAYS[value.weekday()]} {value.day} {EN_MONTHS[value.month - 1]} {value.year}"


def make(
    client: TestClient, editor: dict[str, str], days: int, hours: int = 3, **fields: Any
) -> dict[str, Any]:
    """An event starting at 18:30 (Paris) in ``days`` days, ``hours`` long."""
    start = local(days).replace(tzinfo=None)
    end = start + timedelta(hours=hours)
    return create(client, editor, start=start.isoformat(), end=end.isoformat(), **fields)


def titled(name: str) -> dict[str, str]:
    return {"fr": f"{name} (fr)", "en": f"{name} (en)"}


def get_page(
    client: TestClient, path: str, *, status: int = 200, headers: dict[str, str] | None = None
) -> tuple[Any, Node]:
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response, parse(response.text)


def listed(doc: Node) -> list[tuple[str, str]]:
    """The events a page lists: (title, datetime of the date shown), in order."""
    found = []
    for item in doc.by_class("event"):
        [link] = [a for h in item.iter() if h.tag in ("h2", "h3") for a in h.all("a")]
        [shown] = item.all("time")
        found.append((link.own_text(), shown.attrs["datetime"] or ""))
    return found


def jsonld(doc: Node) -> dict[str, Any]:
    [script] = [s for s in doc.all("script") if s.attrs.get("type") == "application/ld+json"]
    data = json.loads(script.text())
    assert isinstance(data, dict)
    return data


def query(url: str) -> dict[str, str]:
    values = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in values.values()), url
    return {k: v[0] for k, v in values.items()}


def link_to(doc: Node, prefix: str) -> str:
    [href] = [h for h in doc.hrefs() if h.startswith(prefix)]
    return href


def definitions(doc: Node) -> dict[str, str]:
    """The event page's facts: each <dt>'s words mapped to the words of the <dd> after it."""
    [facts] = doc.by_class("facts")
    [dl] = facts.all("dl")
    found: dict[str, str] = {}
    term = ""
    for child in dl.children:
        if isinstance(child, Node) and child.tag == "dt":
            term = child.words()
        elif isinstance(child, Node) and child.tag == "dd":
            found.setdefault(term, child.words())  # lines after the price have no term
    return found


# --- the home page ----------------------------------------------------------------------------


def test_home_is_a_strict_french_page(site: TestClient, editor: dict[str, str]) -> None:
    make(site, editor, 2)
    response, doc = get_page(site, "/")
    [html] = doc.all("html")
    assert html.attrs["lang"] == "fr"
    assert "Prochains événements" in [h.words() for h in doc.all("h2")]
    assert_strict_headers(response)
    assert_safe_page(doc)
    assert [s.attrs.get("src") for s in doc.all("script")] == []


def test_home_in_english(site: TestClient, editor: dict[str, str]) -> None:
    make(site, editor, 2, title={"fr": "Concert du soir", "en": "Evening concert"})
    make(site, editor, 3, title={"fr": "Ciné-débat"})
    _, doc = get_page(site, "/?lang=en")
    [html] = doc.all("html")
    assert html.attrs["lang"] == "en"
    headings = [h.words() for h in doc.all("h2")]
    assert "Upcoming events" in headings and "Subscribe to the calendars" in headings
    titles = [title for title, _ in listed(doc)]
    assert titles == ["Evening concert", "Ciné-débat"]
    # A title only in French is marked as French on the English page.
    [french] = [a for a in doc.all("a") if a.own_text() == "Ciné-débat"]
    assert french.attrs.get("lang") == "fr"
    assert all(h.endswith("?lang=en") for h in doc.hrefs() if "/events/" in h)
    # An unknown language is no error on a page: it falls back to French.
    _, fallback = get_page(site, "/?lang=de")
    assert fallback.all("html")[0].attrs["lang"] == "fr"


def test_home_lists_each_upcoming_event_once_by_date(
    site: TestClient, editor: dict[str, str]
) -> None:
    make(
        site,
        editor,
        -5,
        title=titled("Permanence hebdomadaire"),
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=6"},
    )
    make(site, editor, 1, title=titled("Demain"))
    make(site, editor, 5, title=titled("Dans cinq jours"))
    make(site, editor, 6, title=titled("Annulé"), status="cancelled")
    make(site, editor, -3, title=titled("Passé"))
    make(site, editor, 4, title=titled("Brouillon"), state="draft")
    _, doc = get_page(site, "/")
    assert listed(doc) == [
        ("Demain (fr)", local(1).isoformat()),
        ("Permanence hebdomadaire (fr)", local(2).isoformat()),  # its next date, once
        ("Dans cinq jours (fr)", local(5).isoformat()),
        ("Annulé (fr)", local(6).isoformat()),
    ]
    [cancelled] = [e for e in doc.by_class("event") if "Annulé (fr)" in e.words()]
    assert "event-off" in (cancelled.attrs.get("class") or "").split()
    assert [m.words() for m in cancelled.by_class("mark")] == ["Annulé"]
    links = [a.attrs["href"] for e in doc.by_class("event") for a in e.all("a")]
    assert all(link and link.startswith(f"{BASE}/events/") for link in links)


def test_home_lists_the_events_after_a_daily_one(site: TestClient, editor: dict[str, str]) -> None:
    """A daily event has many occurrences; it shows once and leaves room for the others."""
    make(
        site,
        editor,
        1,
        title=titled("Exposition quotidienne"),
        recurrence={"rrule": "FREQ=DAILY;COUNT=70"},
    )
    make(site, editor, 55, title=titled("Concert de printemps"))
    _, doc = get_page(site, "/")
    assert listed(doc) == [
        ("Exposition quotidienne (fr)", local(1).isoformat()),
        ("Concert de printemps (fr)", local(55).isoformat()),
    ]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_home_subscribe_links_are_the_feeds_links(site: TestClient, lang: str) -> None:
    suffix = "" if lang == "fr" else f"?lang={lang}"
    feeds = site.get(f"/api/feeds?lang={lang}").json()["items"]
    _, doc = get_page(site, f"/{suffix}")
    shown = doc.by_class("feed")
    assert [f.all("h3")[0].words() for f in shown] == [f["title"] for f in feeds]
    for item, feed in zip(shown, feeds, strict=True):
        links = feed["links"]
        assert set(item.hrefs()) == {links["webcal"], links["ics"], links["google"]}
        assert links["webcal"].startswith("webcal://agenda.example.org/feeds/")
        assert links["ics"].startswith(f"{BASE}/feeds/")
        assert links["google"].startswith("https://calendar.google.com/calendar/render?cid=")


@pytest.mark.parametrize(("lang", "suffix"), [("fr", ""), ("en", "?lang=en")])
def test_home_links_to_the_embed_builder_the_newsletter_and_proposals(
    site: TestClient, lang: str, suffix: str
) -> None:
    """The pages themselves are checked in test_embed.py (every page of the site)."""
    _, doc = get_page(site, f"/{suffix}")
    assert doc.all("html")[0].attrs["lang"] == lang
    [share] = [s for s in doc.all("section") if s.attrs.get("aria-labelledby") == "share-title"]
    assert share.hrefs() == [f"/embed{suffix}", f"/newsletter{suffix}"]
    nav = doc.all("nav")[0].hrefs()
    assert f"/embed{suffix}" in nav and f"/newsletter{suffix}" in nav
    assert f"/proposer{suffix}" in nav


# --- the event page ---------------------------------------------------------------------------


def full_event(client: TestClient, editor: dict[str, str], days: int = 3) -> dict[str, Any]:
    return make(
        client,
        editor,
        days,
        title={"fr": "Concert solidaire", "en": "Solidarity concert"},
        summary={"fr": "Un concert au profit d'ALIMA.", "en": "A concert in aid of ALIMA."},
        registration_url="https://example.org/inscription",
        image={"url": "http://example.org/affiche.jpg", "alt": {"fr": "L'affiche"}},
        accessibility={"features": ["wheelchair"], "note": {"fr": "Rampe à l'entrée"}},
        audience={"min_age": 12},
    )


def test_event_page_shows_everything(site: TestClient, editor: dict[str, str]) -> None:
    event = full_event(site, editor)
    response, doc = get_page(site, f"/events/{event['slug']}")
    assert_strict_headers(response)
    assert_safe_page(doc, images=("https://example.org/affiche.jpg",))
    assert doc.all("html")[0].attrs["lang"] == "fr"
    [h1] = doc.all("h1")
    assert h1.words() == "Concert solidaire"
    assert doc.all("title")[0].words().startswith("Concert solidaire")
    assert [p.words() for p in doc.by_class("lead")] == ["Un concert au profit d'ALIMA."]
    assert [p.words() for p in doc.by_class("category")] == ["Concert"]
    [shown] = doc.all("time")
    assert shown.attrs["datetime"] == local(3).isoformat()
    assert shown.words() == f"{fr_date(day(3))} de 18 h 30 à 21 h 30"
    facts = definitions(doc)
    assert facts["Quand"] == shown.words()
    assert facts["Où"].startswith("La Bellevilloise 19-21 rue Boyer, 75020 Paris")
    assert facts["Organisation"] == "Organisé par YoonRisen, au profit d'ALIMA"
    assert facts["Tarif"] == "Participation libre"
    lines = [dd.words() for dd in doc.all("dd")]
    assert "Accessibilité : accessible en fauteuil roulant, Rampe à l'entrée" in lines
    assert "Public : à partir de 12 ans" in lines
    # A picture on another site is linked, not loaded (no third-party request).
    assert not [i for i in doc.all("img") if "event-image" in (i.attrs.get("class") or "")]
    [picture] = [
        a for a in doc.all("a") if a.attrs.get("href") == "https://example.org/affiche.jpg"
    ]
    assert picture.words() == "Voir l'illustration (sur un autre site) : L'affiche"
    assert "https://example.org/inscription" in doc.hrefs()
    assert "https://example.org/concert" in doc.hrefs()
    [add] = [h.words() for h in doc.all("h2") if h.attrs.get("id") == "add-title"]
    assert add == "Ajouter à mon agenda"
    # The same page by the event's number.
    _, by_id = get_page(site, f"/events/{event['id']}")
    assert by_id.all("h1")[0].words() == "Concert solidaire"


def test_event_jsonld(site: TestClient, editor: dict[str, str]) -> None:
    event = full_event(site, editor)
    _, doc = get_page(site, f"/events/{event['slug']}")
    data = jsonld(doc)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Event"
    assert data["name"] == "Concert solidaire"
    assert data["url"] == f"{BASE}/events/{event['slug']}"
    assert data["startDate"] == local(3).isoformat()
    assert data["endDate"] == local(3, 21, 30).isoformat()
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert data["description"] == "Un concert au profit d'ALIMA."
    assert data["location"] == {
        "@type": "Place",
        "name": "La Bellevilloise",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": "19-21 rue Boyer",
            "postalCode": "75020",
            "addressLocality": "Paris",
            "addressCountry": "FR",
        },
        "geo": {"@type": "GeoCoordinates", "latitude": 48.8686, "longitude": 2.3933},
    }
    assert data["organizer"] == {
        "@type": "Organization",
        "name": "YoonRisen",
        "url": "https://example.org/yoonrisen",
    }
    assert data["offers"]["@type"] == "Offer"
    assert data["offers"]["url"] == "https://example.org/inscription"
    assert data["offers"]["description"] == "Participation libre"
    assert data["image"] == ["https://example.org/affiche.jpg"]  # upgraded to https


def test_event_jsonld_without_price_registration_or_image(
    site: TestClient, editor: dict[str, str]
) -> None:
    event = make(site, editor, 3, price=None, image=None, organizer=None, partners=[])
    data = jsonld(get_page(site, f"/events/{event['slug']}")[1])
    assert "offers" not in data and "image" not in data and "organizer" not in data
    priced = make(site, editor, 3, price=None, registration_url="https://example.org/r")
    offers = jsonld(get_page(site, f"/events/{priced['slug']}")[1])["offers"]
    assert offers == {"@type": "Offer", "url": "https://example.org/r"}


def test_event_opengraph_and_twitter_card(site: TestClient, editor: dict[str, str]) -> None:
    event = full_event(site, editor)
    _, doc = get_page(site, f"/events/{event['slug']}")
    canonical = f"{BASE}/events/{event['slug']}"
    assert doc.meta("og:title") == "Concert solidaire"
    assert doc.meta("og:type") in ("website", "article", "event")
    assert doc.meta("og:url") == canonical
    description = " ".join((doc.meta("og:description") or "").split())
    assert fr_date(day(3)) in description and "Un concert au profit d'ALIMA." in description
    assert doc.meta("og:image") == "https://example.org/affiche.jpg"
    assert doc.meta("og:image:alt") == "L'affiche"
    assert doc.meta("twitter:card") == "summary_large_image"
    assert doc.meta("twitter:title") == "Concert solidaire"
    [link] = [n for n in doc.all("link") if n.attrs.get("rel") == "canonical"]
    assert link.attrs["href"] == canonical

    plain = make(site, editor, 4, image=None)
    _, doc = get_page(site, f"/events/{plain['slug']}")
    assert doc.meta("og:image") is None
    assert doc.meta("twitter:card") == "summary"


def test_add_to_calendar_links(site: TestClient, editor: dict[str, str]) -> None:
    event = full_event(site, editor)
    _, doc = get_page(site, f"/events/{event['slug']}")
    page = f"{BASE}/events/{event['slug']}"
    [section] = [s for s in doc.all("section") if "add" in (s.attrs.get("class") or "").split()]
    assert len(section.all("a")) == 3

    ics = link_to(section, f"{BASE}/events/")
    assert ics == f"{page}.ics"
    served = site.get(urlsplit(ics).path)
    assert served.status_code == 200
    assert served.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "SUMMARY:Concert solidaire" in served.text

    google = link_to(section, "https://calendar.google.com/calendar/render?")
    assert query(google) == {
        "action": "TEMPLATE",
        "text": "Concert solidaire",
        "dates": f"{utc_stamp(local(3))}/{utc_stamp(local(3, 21, 30))}",
        "details": f"Un concert au profit d'ALIMA.\n\n{page}",
        "location": "La Bellevilloise, 19-21 rue Boyer, 75020 Paris",
        "ctz": "Europe/Paris",
    }
    outlook = link_to(section, "https://outlook.live.com/calendar/0/action/compose?")
    values = query(outlook)
    assert values["subject"] == "Concert solidaire"
    assert values["startdt"] == local(3).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert values["enddt"] == local(3, 21, 30).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert values["location"] == "La Bellevilloise, 19-21 rue Boyer, 75020 Paris"
    assert page in values["body"]
    assert "allday" not in values


def test_add_to_calendar_links_of_an_all_day_event(
    site: TestClient, editor: dict[str, str]
) -> None:
    first, last = day(10), day(12)
    event = create(
        site,
        editor,
        start=first.isoformat(),
        end=last.isoformat(),
        all_day=True,
        category="exposition",
        title={"fr": "Exposition « Exils »"},
    )
    _, doc = get_page(site, f"/events/{event['slug']}")
    [shown] = doc.all("time")
    assert shown.attrs["datetime"] == first.isoformat()
    # Calendars take the day after the last one as the end of an all-day event.
    after = (last + timedelta(days=1)).strftime("%Y%m%d")
    google = query(link_to(doc, "https://calendar.google.com/calendar/render?"))
    assert google["dates"] == f"{first:%Y%m%d}/{after}"
    assert google["text"] == "Exposition « Exils »"
    assert google["ctz"] == "Europe/Paris"
    outlook = query(link_to(doc, "https://outlook.live.com/calendar/0/action/compose?"))
    assert outlook["allday"] == "true"
    assert outlook["startdt"] == first.isoformat()
    assert outlook["enddt"] == (last + timedelta(days=1)).isoformat()
    data = jsonld(doc)
    assert (data["startDate"], data["endDate"]) == (first.isoformat(), last.isoformat())

    single = create(site, editor, start=first.isoformat(), end=None, all_day=True)
    _, doc = get_page(site, f"/events/{single['slug']}")
    google = query(link_to(doc, "https://calendar.google.com/calendar/render?"))
    assert google["dates"] == f"{first:%Y%m%d}/{first + timedelta(days=1):%Y%m%d}"


def test_a_recurring_event_shows_its_next_date(site: TestClient, editor: dict[str, str]) -> None:
    event = make(site, editor, -6, recurrence={"rrule": "FREQ=WEEKLY;COUNT=5"})
    _, doc = get_page(site, f"/events/{event['slug']}")
    [facts] = doc.by_class("facts")
    [shown] = facts.all("time")
    assert shown.attrs["datetime"] == local(1).isoformat()
    # "les samedis 28 novembre, 5, 12 et 19 décembre 2026 de 18 h 30 à 21 h 30"
    assert shown.words().startswith(f"les {FR_DAYS[day(1).weekday()]}s ")
    assert shown.words().endswith(f"{day(22).year} de 18 h 30 à 21 h 30")
    assert jsonld(doc)["startDate"] == local(1).isoformat()
    google = query(link_to(doc, "https://calendar.google.com/calendar/render?"))
    assert google["dates"] == f"{utc_stamp(local(1))}/{utc_stamp(local(1, 21, 30))}"


def test_calendar_links_in_the_event_time_zone(site: TestClient, editor: dict[str, str]) -> None:
    mayotte = ZoneInfo("Indian/Mayotte")
    start = datetime.combine(day(4), time(9, 0))
    event = create(
        site,
        editor,
        start=start.isoformat(),
        end=(start + timedelta(hours=2)).isoformat(),
        timezone="Indian/Mayotte",
    )
    _, doc = get_page(site, f"/events/{event['slug']}")
    aware = start.replace(tzinfo=mayotte)
    google = query(link_to(doc, "https://calendar.google.com/calendar/render?"))
    assert google["ctz"] == "Indian/Mayotte"
    assert google["dates"] == f"{utc_stamp(aware)}/{utc_stamp(aware + timedelta(hours=2))}"
    outlook = query(link_to(doc, "https://outlook.live.com/calendar/0/action/compose?"))
    assert outlook["startdt"] == aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc.all("time")[0].attrs["datetime"] == aware.isoformat()
    assert jsonld(doc)["startDate"] == aware.isoformat()


def test_map_link_from_the_coordinates(site: TestClient, editor: dict[str, str]) -> None:
    event = make(site, editor, 3)
    _, doc = get_page(site, f"/events/{event['slug']}")
    osm = link_to(doc, "https://www.openstreetmap.org/")
    parts = urlsplit(osm)
    assert query(osm) == {"mlat": "48.86860", "mlon": "2.39330"}
    assert parts.fragment.endswith("/48.86860/2.39330")
    [anchor] = [a for a in doc.all("a") if a.attrs.get("href") == osm]
    assert anchor.words() == "Voir sur la carte (OpenStreetMap)"
    assert doc.all("iframe") == [] and doc.all("embed") == [] and doc.all("object") == []
    assert_safe_page(doc)

    nowhere = make(site, editor, 3, location={"name": "Salle des fêtes", "city": "Montreuil"})
    _, doc = get_page(site, f"/events/{nowhere['slug']}")
    assert not [h for h in doc.hrefs() if "openstreetmap" in h]
    assert "Salle des fêtes" in definitions(doc)["Où"]


def test_online_event(site: TestClient, editor: dict[str, str]) -> None:
    event = make(
        site,
        editor,
        3,
        attendance_mode="online",
        online_url="https://visio.example.org/salle",
        location=None,
    )
    _, doc = get_page(site, f"/events/{event['slug']}")
    data = jsonld(doc)
    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["location"] == {
        "@type": "VirtualLocation",
        "url": "https://visio.example.org/salle",
    }
    assert not [h for h in doc.hrefs() if "openstreetmap" in h]
    [join] = [a for a in doc.all("a") if a.attrs.get("href") == "https://visio.example.org/salle"]
    assert join.words() == "Rejoindre l'événement en ligne"
    google = query(link_to(doc, "https://calendar.google.com/calendar/render?"))
    assert google["location"] == "https://visio.example.org/salle"


def test_mixed_event(site: TestClient, editor: dict[str, str]) -> None:
    event = make(site, editor, 3, attendance_mode="mixed", online_url="https://visio.example.org/s")
    _, doc = get_page(site, f"/events/{event['slug']}")
    data = jsonld(doc)
    assert data["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    places = data["location"]
    assert [p["@type"] for p in places] == ["Place", "VirtualLocation"]
    assert places[0]["address"]["addressLocality"] == "Paris"
    assert places[1]["url"] == "https://visio.example.org/s"
    assert link_to(doc, "https://www.openstreetmap.org/")
    assert "https://visio.example.org/s" in doc.hrefs()


@pytest.mark.parametrize(
    ("status", "schema", "label", "notice"),
    [
        ("cancelled", "EventCancelled", "Annulé", "Cet événement est annulé."),
        ("postponed", "EventPostponed", "Reporté", "Cet événement est reporté"),
        ("rescheduled", "EventRescheduled", "Nouvelle date", "Cet événement a une nouvelle date."),
    ],
)
def test_status_is_marked(
    site: TestClient, editor: dict[str, str], status: str, schema: str, label: str, notice: str
) -> None:
    event = make(site, editor, 3, status=status)
    _, doc = get_page(site, f"/events/{event['slug']}")
    assert jsonld(doc)["eventStatus"] == f"https://schema.org/{schema}"
    [note] = doc.by_class("notice")
    assert note.attrs.get("role") == "note"
    assert [s.words() for s in note.all("strong")] == [label]
    assert notice in note.words()
    [article] = doc.all("article")
    off = "event-off" in (article.attrs.get("class") or "").split()
    assert off == (status == "cancelled")  # postponed is not struck through
    # A cancelled event is not offered to calendars (its .ics stays, for subscribers).
    offered = [h for h in doc.hrefs() if "calendar.google.com" in h or h.endswith(".ics")]
    assert (offered == []) == (status == "cancelled")
    assert site.get(f"/events/{event['slug']}.ics").status_code == 200
    _, english = get_page(site, f"/events/{event['slug']}?lang=en")
    [note] = english.by_class("notice")
    assert note.words().startswith(f"{status.capitalize()} – This event")


def test_a_scheduled_event_has_no_notice(site: TestClient, editor: dict[str, str]) -> None:
    event = make(site, editor, 3)
    _, doc = get_page(site, f"/events/{event['slug']}")
    assert doc.by_class("notice") == []
    assert jsonld(doc)["eventStatus"] == "https://schema.org/EventScheduled"


def test_event_page_in_english(site: TestClient, editor: dict[str, str]) -> None:
    event = make(
        site,
        editor,
        3,
        title={"fr": "Concert solidaire", "en": "Solidarity concert"},
        summary="Un concert au profit d'ALIMA.",
        price={"fr": "Participation libre", "en": "Pay what you can"},
    )
    _, doc = get_page(site, f"/events/{event['slug']}?lang=en")
    assert doc.all("html")[0].attrs["lang"] == "en"
    [h1] = doc.all("h1")
    assert h1.words() == "Solidarity concert" and "lang" not in h1.attrs
    # The summary exists only in French: shown, and marked as French.
    [lead] = doc.by_class("lead")
    assert lead.words() == "Un concert au profit d'ALIMA." and lead.attrs.get("lang") == "fr"
    facts = definitions(doc)
    assert set(facts) >= {"When", "Where", "Organisers", "Price"}
    assert facts["Price"] == "Pay what you can"
    assert facts["When"] == f"{en_date(day(3))}, 6.30 pm to 9.30 pm"
    assert facts["Organisers"] == "Organised by YoonRisen, in aid of ALIMA"
    assert "See on the map (OpenStreetMap)" in facts["Where"]
    assert [h.words() for h in doc.all("h2") if h.attrs.get("id") == "add-title"] == [
        "Add to my calendar"
    ]
    assert [a.words() for a in doc.by_class("button")][-3:] == [
        "Calendar file (.ics)",
        "Google Calendar",
        "Outlook",
    ]
    data = jsonld(doc)
    assert data["name"] == "Solidarity concert" and data["inLanguage"] == "en"
    assert doc.meta("og:title") == "Solidarity concert"
    assert doc.meta("og:locale") == "en_GB"
    ics = link_to(doc, f"{BASE}/events/")
    assert ics == f"{BASE}/events/{event['slug']}.ics?lang=en"
    assert query(link_to(doc, "https://calendar.google.com/"))["text"] == "Solidarity concert"
    # An unknown language falls back to French rather than failing.
    _, fallback = get_page(site, f"/events/{event['slug']}?lang=de")
    assert fallback.all("h1")[0].words() == "Concert solidaire"


def test_past_event_page_still_shows(site: TestClient, editor: dict[str, str]) -> None:
    event = make(site, editor, -20)
    _, doc = get_page(site, f"/events/{event['slug']}")
    assert doc.all("time")[0].attrs["datetime"] == local(-20).isoformat()
    assert jsonld(doc)["startDate"] == local(-20).isoformat()


def test_missing_events(site: TestClient, editor: dict[str, str]) -> None:
    response, doc = get_page(site, "/events/no-such-event", status=404, headers=BROWSER)
    assert_strict_headers(response)
    assert_safe_page(doc)
    assert doc.all("html")[0].attrs["lang"] == "fr"
    assert "/" in doc.all("main")[0].hrefs()
    _, english = get_page(site, "/events/no-such-event?lang=en", status=404, headers=BROWSER)
    assert english.all("html")[0].attrs["lang"] == "en"

    problem = site.get("/events/no-such-event")
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["status"] == 404

    draft = create(site, editor, state="draft")
    assert site.get(f"/events/{draft['slug']}").status_code == 404
    get_page(site, f"/events/{draft['slug']}", status=404, headers=BROWSER)

    gone = make(site, editor, 3)
    assert site.delete(f"/api/events/{gone['slug']}", headers=editor).status_code == 204
    deleted = site.get(f"/events/{gone['slug']}")
    assert deleted.status_code == 410
    assert deleted.headers["content-type"] == "application/problem+json"
    get_page(site, f"/events/{gone['slug']}", status=410, headers=BROWSER)
    assert site.get(f"/events/{gone['slug']}.ics").status_code == 410


def test_ics_route_still_answers(site: TestClient, editor: dict[str, str]) -> None:
    event = make(site, editor, 3)
    response = site.get(f"/events/{event['slug']}.ics", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.text.startswith("BEGIN:VCALENDAR")
    missing = site.get("/events/no-such-event.ics", headers=BROWSER)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


# --- hostile text -----------------------------------------------------------------------------


def hostile(client: TestClient, editor: dict[str, str]) -> dict[str, Any]:
    return make(
        client,
        editor,
        3,
        title={"fr": HOSTILE_TITLE},
        summary=HOSTILE_SUMMARY,
        description=HOSTILE_DESCRIPTION,
        location={
            "name": HOSTILE_PLACE,
            "address": "1 rue <i>X</i>",
            "city": "Paris",
            "lat": 48.8686,
            "lon": 2.3933,
        },
        organizer={"name": '<b>Org</b> "& co"'},
        price="<u>5 €</u>",
    )


def assert_no_payload(doc: Node) -> None:
    assert_safe_page(doc)
    for node in doc.iter():
        assert node.tag not in ("b", "i", "u"), f"<{node.tag}> from event text"
        assert not (node.tag == "img" and node.attrs.get("src") == "x")
    scripts = [s for s in doc.all("script") if "src" not in s.attrs]
    assert all(s.attrs.get("type") == "application/ld+json" for s in scripts)


def test_hostile_event_text_stays_text(site: TestClient, editor: dict[str, str]) -> None:
    event = hostile(site, editor)
    response, doc = get_page(site, f"/events/{event['slug']}")
    assert_no_payload(doc)
    assert doc.all("h1")[0].words() == HOSTILE_TITLE
    assert doc.all("title")[0].words().startswith(HOSTILE_TITLE)
    assert [p.words() for p in doc.by_class("lead")] == [HOSTILE_SUMMARY]
    assert doc.meta("og:title") == HOSTILE_TITLE
    assert doc.meta("twitter:title") == HOSTILE_TITLE
    facts = definitions(doc)
    assert facts["Où"].startswith(f"{HOSTILE_PLACE} 1 rue <i>X</i>, Paris")
    assert facts["Tarif"] == "<u>5 €</u>"
    assert '<b>Org</b> "& co"' in facts["Organisation"]
    [about] = doc.by_class("description")
    text = about.words()
    assert "<script>alert(2)</script>" in text  # shown as text
    assert about.all("a") == [] and about.all("img") == []
    # The JSON-LD cannot be closed early, and still says what the event says.
    [script] = [s for s in doc.all("script") if s.attrs.get("type") == "application/ld+json"]
    raw = script.text()
    assert "</script" not in raw.lower() and "<!--" not in raw
    data = json.loads(raw)
    assert data["name"] == HOSTILE_TITLE
    assert data["description"] == HOSTILE_SUMMARY
    assert data["location"]["name"] == HOSTILE_PLACE
    assert data["organizer"]["name"] == '<b>Org</b> "& co"'
    # The whole response, not only the tree: the raw payloads never appear unescaped.
    for payload in ("<script>alert", "<img src=x", "<b>gras", "<i>X", "onerror=alert(1)>"):
        assert payload not in response.text
    # Calendar links carry the text, encoded.
    google = query(link_to(doc, "https://calendar.google.com/"))
    assert google["text"] == HOSTILE_TITLE


def test_hostile_event_on_the_home_page(site: TestClient, editor: dict[str, str]) -> None:
    hostile(site, editor)
    response, doc = get_page(site, "/")
    assert_no_payload(doc)
    assert [title for title, _ in listed(doc)] == [HOSTILE_TITLE]
    assert HOSTILE_SUMMARY in [p.words() for p in doc.by_class("summary")]
    assert "<script>alert" not in response.text and "<img src=x" not in response.text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_page_prints_a_python_object(
    site: TestClient, editor: dict[str, str], lang: str
) -> None:
    # Jinja resolves ``w.update`` to dict.update when a word is named like a dict method.
    event = create(site, editor)
    for path in ("/", f"/events/{event['slug']}", "/embed", "/embed/agenda", "/newsletter"):
        body = site.get(path, params={"lang": lang}).text
        assert "<built-in method" not in body, path
        assert "object at 0x" not in body, path


def test_a_status_note_is_said_on_the_page_in_each_language(
    site: TestClient, editor: dict[str, str]
) -> None:
    note = {"fr": "Reporté en raison des grèves", "en": "Postponed because of the strikes"}
    event = make(site, editor, 3, status="postponed", status_note=note)
    assert event["status_note"] == note
    _, doc = get_page(site, f"/events/{event['slug']}")
    [notice] = doc.by_class("notice")
    assert notice.words() == "Reporté – Reporté en raison des grèves"
    _, english = get_page(site, f"/events/{event['slug']}?lang=en")
    [notice] = english.by_class("notice")
    assert notice.words() == "Postponed – Postponed because of the strikes"
    # A note without a status change reads on its own; the home page says it too.
    kept = make(site, editor, 4, status_note={"fr": "Maintenu malgré la pluie"})
    _, doc = get_page(site, f"/events/{kept['slug']}")
    [notice] = doc.by_class("notice")
    assert notice.words() == "Maintenu malgré la pluie"
    _, home = get_page(site, "/")
    assert "Reporté – Reporté en raison des grèves" in home.words()
    assert "Maintenu malgré la pluie" in home.words()


def test_a_weekly_series_names_its_true_last_date_and_every_upcoming_one(
    site: TestClient, editor: dict[str, str]
) -> None:
    from dateutil.rrule import rrulestr

    first = day(1)
    last = first + timedelta(weeks=30)
    until = datetime.combine(last, time(23, 59, 59), PARIS).astimezone(UTC)
    skipped = [first + timedelta(weeks=3), first + timedelta(weeks=4)]
    event = make(
        site,
        editor,
        1,
        recurrence={
            "rrule": f"FREQ=WEEKLY;UNTIL={until:%Y%m%dT%H%M%SZ}",
            "exdates": [datetime.combine(d, time(18, 30)).isoformat() for d in skipped],
        },
    )
    _, doc = get_page(site, f"/events/{event['slug']}")
    facts = definitions(doc)
    weekday = FR_DAYS[first.weekday()]
    repeats = facts["Se répète"]
    assert repeats.startswith(f"Chaque {weekday} de 18 h 30 à 21 h 30, jusqu'au ")
    last_said = f"{'1er' if last.day == 1 else last.day} {FR_MONTHS[last.month - 1]} {last.year}"
    assert f"jusqu'au {last_said}" in repeats, repeats
    assert "sauf les " in repeats or "sauf le " in repeats
    assert f"et d'autres dates jusqu'au {last_said}" in facts["Quand"]
    # Every upcoming date, listed one by one: 31 weeks but the two skipped.
    [dates] = doc.by_class("date-list")
    listed_days = [t.attrs["datetime"][:10] for t in dates.all("time")]
    expected = [first + timedelta(weeks=n) for n in range(31)]
    expected = [d for d in expected if d not in skipped]
    assert listed_days == [d.isoformat() for d in expected]
    # The Google link repeats as the feed does (dateutil reads its recur from the next date).
    google = query(link_to(doc, "https://calendar.google.com/calendar/render?"))
    assert google["ctz"] == "Europe/Paris"
    start = datetime.combine(first, time(18, 30), PARIS)
    dates_google = [
        d.date() for d in rrulestr(google["recur"], dtstart=start, forceset=True, unfold=True)
    ]
    feed = site.get(f"/api/occurrences?from={first}&to={last + timedelta(days=1)}&limit=100")
    from_feed = [
        date.fromisoformat(o["start"][:10])
        for o in feed.json()["items"]
        if o["slug"] == event["slug"]
    ]
    assert dates_google == from_feed == expected
    # Outlook's form adds one date: the page says so and points to the .ics.
    assert "Outlook n'ajoute que la prochaine date" in doc.words()


def test_a_counted_series_gives_google_its_end_not_its_count(
    site: TestClient, editor: dict[str, str]
) -> None:
    event = make(site, editor, -13, recurrence={"rrule": "FREQ=WEEKLY;COUNT=6"})
    _, doc = get_page(site, f"/events/{event['slug']}")
    google = query(link_to(doc, "https://calendar.google.com/calendar/render?"))
    # The link starts at the next date (the third): counting 6 again from it would add 2.
    assert "COUNT" not in google["recur"]
    assert f"UNTIL={utc_stamp(local(22))}" in google["recur"]
    assert f"jusqu'au {day(22).day}" in definitions(doc)["Se répète"]


def test_the_home_page_looks_months_ahead(site: TestClient, editor: dict[str, str]) -> None:
    far = make(site, editor, 130, title=titled("Concert d'été"))
    _, doc = get_page(site, "/")
    assert "Concert d'été (fr)" in [title for title, _ in listed(doc)]
    assert far["slug"]


def test_favicon(site: TestClient) -> None:
    icon = site.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    again = site.get("/favicon.ico", headers={"If-None-Match": icon.headers["etag"]})
    assert again.status_code == 304
