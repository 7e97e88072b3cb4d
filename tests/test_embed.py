"""Ways for partner sites to show our events: the iframe embed ``GET /embed/{feed}`` (made to be
framed, complete without JavaScript), its colours ``GET /embed/theme.css``, the web component
``GET /widget.js``, and the embed builder ``GET /embed``. Then every page of the site at once:
only our own resources, and each of them served.

The page DOM and the page checks are those of ``tests/test_pages.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.settings import Settings
from tests.conftest import make_settings
from tests.htmltree import Node, parse
from tests.test_pages import (
    BASE,
    BROWSER,
    assert_no_payload,
    assert_safe_page,
    assert_strict_headers,
    get_page,
    hostile,
    listed,
    loaded,
    make,
    query,
    titled,
)

DEFAULT_THEME = "/embed/theme.css?accent=a01f50&theme=light"
HOSTILE_TAG = '"><script>alert(1)</script>'
CHOICES = ("feed", "category", "tag", "layout", "lang", "limit", "accent", "theme", "once")


@pytest.fixture
def site(migrated: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    """The service at a predictable public address, so absolute links can be compared."""
    settings = make_settings(migrated.database_url, base_url=BASE)
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


def some_events(client: TestClient, editor: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Seven upcoming events (one weekly), and some that no list may show."""
    return {
        "weekly": make(
            client,
            editor,
            1,
            title=titled("Permanence juridique"),
            category="permanence",
            tags=["droits"],
            recurrence={"rrule": "FREQ=WEEKLY;COUNT=4"},
        ),
        "concert": make(client, editor, 2, title=titled("Concert"), tags=["musique"]),
        "expo": make(client, editor, 3, title={"fr": "Exposition"}, category="exposition"),
        "cancelled": make(client, editor, 4, title=titled("Annulé"), status="cancelled"),
        "rally": make(client, editor, 5, title=titled("Marche"), category="mobilisation"),
        "talk": make(client, editor, 9, title=titled("Conférence"), category="conference"),
        "later": make(client, editor, 30, title=titled("Plus tard")),
        "past": make(client, editor, -2, title=titled("Passé")),
        "draft": make(client, editor, 2, title=titled("Brouillon"), state="draft"),
    }


def api_listing(client: TestClient, **params: str) -> list[tuple[str, str]]:
    response = client.get("/api/occurrences", params=params)
    assert response.status_code == 200, response.text
    return [(item["title"], item["start"]) for item in response.json()["items"]]


def main_classes(doc: Node) -> list[str]:
    [main] = doc.all("main")
    return (main.attrs.get("class") or "").split()


def stylesheets(doc: Node) -> list[str]:
    return [
        n.attrs.get("href") or "" for n in doc.all("link") if n.attrs.get("rel") == "stylesheet"
    ]


def embed_page(client: TestClient, path: str) -> tuple[Any, Node]:
    response, doc = get_page(client, path)
    assert_strict_headers(response, framed=True)
    assert_safe_page(doc)
    return response, doc


def snippet(doc: Node, ident: str) -> Node:
    """A builder snippet (the text of its text area) parsed as HTML, as a host page would."""
    area = doc.by_id(ident)
    assert area.tag == "textarea" and "readonly" in area.attrs
    return parse(area.text(), fragment=True)


def one(doc: Node, tag: str) -> Node:
    [node] = doc.all(tag)
    return node


# --- the iframe embed -------------------------------------------------------------------------


def test_embed_lists_the_next_occurrences(site: TestClient, editor: dict[str, str]) -> None:
    some_events(site, editor)
    response, doc = embed_page(site, "/embed/agenda")
    assert response.headers["content-security-policy"].endswith("frame-ancestors *")
    assert "x-frame-options" not in response.headers
    assert one(doc, "html").attrs["lang"] == "fr"
    assert one(doc, "h1").words() == "Agenda solidaire"
    assert listed(doc) == api_listing(site, feed="agenda", limit="5", lang="fr")
    assert [title for title, _ in listed(doc)] == [
        "Permanence juridique (fr)",
        "Concert (fr)",
        "Exposition",
        "Annulé (fr)",
        "Marche (fr)",
    ]
    assert main_classes(doc) == ["calendar", "layout-list"]
    [cancelled] = [e for e in doc.by_class("event") if "Annulé (fr)" in e.words()]
    assert [m.words() for m in cancelled.by_class("mark")] == ["Annulé"]
    # Served by us, complete without JavaScript: the script only reports the height.
    assert [s.attrs.get("src") for s in doc.all("script")] == ["/static/embed.js"]
    assert stylesheets(doc) == ["/static/embed.css", DEFAULT_THEME]
    # Links open outside the frame (the .ics files are downloads).
    downloads = [a for p in doc.by_class("add") for a in p.all("a")]
    assert len(downloads) == 4  # the cancelled event is not offered to calendars
    assert all(urlsplit(a.attrs.get("href") or "").path.endswith(".ics") for a in downloads)
    for anchor in doc.all("a"):
        href = anchor.attrs.get("href") or ""
        assert href.startswith(f"{BASE}/"), href
        if anchor in downloads:
            continue
        assert anchor.attrs.get("target") == "_blank", href
        assert "noopener" in (anchor.attrs.get("rel") or "").split(), href
    pages = [a.attrs["href"] for h2 in doc.all("h2") for a in h2.all("a")]
    assert len(pages) == 5 and all(p and p.startswith(f"{BASE}/events/") for p in pages)
    [subscribe] = [a for p in doc.by_class("subscribe") for a in p.all("a")]
    assert subscribe.attrs["href"] == f"{BASE}/feeds/agenda.ics"
    assert subscribe.attrs.get("target") == "_blank"


def test_embed_choices_narrow_it(site: TestClient, editor: dict[str, str]) -> None:
    some_events(site, editor)
    _, doc = embed_page(site, "/embed/agenda?limit=2")
    assert listed(doc) == api_listing(site, feed="agenda", limit="2", lang="fr")

    _, doc = embed_page(site, "/embed/agenda?lang=en")
    assert one(doc, "html").attrs["lang"] == "en"
    assert one(doc, "h1").words() == "Solidarity calendar"
    assert listed(doc) == api_listing(site, feed="agenda", limit="5", lang="en")
    assert listed(doc)[0][0] == "Permanence juridique (en)"
    assert "(new window)" in doc.words()
    [subscribe] = [a for p in doc.by_class("subscribe") for a in p.all("a")]
    assert subscribe.attrs["href"] == f"{BASE}/feeds/agenda.ics?lang=en"

    _, doc = embed_page(site, "/embed/agenda?category=exposition")
    assert [title for title, _ in listed(doc)] == ["Exposition"]
    _, doc = embed_page(site, "/embed/agenda?tag=droits&limit=10")
    assert [title for title, _ in listed(doc)] == ["Permanence juridique (fr)"] * 4
    _, doc = embed_page(site, "/embed/culture")
    assert [title for title, _ in listed(doc)] == [
        "Concert (fr)",
        "Exposition",
        "Annulé (fr)",
        "Plus tard (fr)",
    ]

    _, compact = embed_page(site, "/embed/agenda?layout=compact")
    assert main_classes(compact) == ["calendar", "layout-compact"]
    assert len(compact.by_class("event")) == 5
    _, cards = embed_page(site, "/embed/agenda?layout=cards&accent=123ABC&theme=dark")
    assert main_classes(cards) == ["calendar", "layout-cards"]
    assert stylesheets(cards) == ["/static/embed.css", "/embed/theme.css?accent=123abc&theme=dark"]


@pytest.mark.parametrize(
    "bad",
    [
        "limit=abc",
        "limit=-3",
        "layout=weird",
        "accent=zzz",
        "accent=12345g",
        "accent=123abc;}body{",
        "lang=de",
        "theme=neon",
        "category=zzz",
        "limit=&layout=&lang=",
    ],
)
def test_embed_mistakes_fall_back_to_defaults(
    site: TestClient, editor: dict[str, str], bad: str
) -> None:
    """An embed on a partner's site shows something rather than an error."""
    some_events(site, editor)
    _, default = embed_page(site, "/embed/agenda")
    _, doc = embed_page(site, f"/embed/agenda?{bad}")
    assert listed(doc) == listed(default)
    assert len(listed(doc)) == 5
    assert one(doc, "html").attrs["lang"] == "fr"
    assert main_classes(doc) == ["calendar", "layout-list"]
    assert stylesheets(doc) == ["/static/embed.css", DEFAULT_THEME]


def test_embed_of_an_unknown_feed(site: TestClient) -> None:
    problem = site.get("/embed/nope")
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"
    assert "nope" in problem.json()["detail"]
    _, doc = get_page(site, "/embed/nope", status=404, headers=BROWSER)
    assert_safe_page(doc)


def test_embed_with_no_events(site: TestClient) -> None:
    _, doc = embed_page(site, "/embed/mobilisations?lang=en")
    assert doc.by_class("event") == []
    assert [p.words() for p in doc.by_class("empty")] == ["No upcoming events."]


def test_hostile_event_in_the_embed(site: TestClient, editor: dict[str, str]) -> None:
    hostile(site, editor)
    response, doc = embed_page(site, "/embed/agenda")
    assert_no_payload(doc)
    assert [title for title, _ in listed(doc)] == ["</script><script>alert(1)</script>"]
    assert "<script>alert" not in response.text and "<b>gras" not in response.text


# --- the embed's colours ----------------------------------------------------------------------


def test_theme_stylesheet(site: TestClient) -> None:
    response = site.get("/embed/theme.css?accent=123abc&theme=dark")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    css = response.text
    assert "--calendar-accent: #123abc" in css
    assert "color-scheme: dark" in css
    assert "--calendar-bg: #151515" in css and "--calendar-fg: #f0f0f0" in css

    light = site.get("/embed/theme.css?accent=%23ABCDEF&theme=light").text
    assert "#abcdef" in light and "color-scheme: light" in light and "#151515" not in light
    # Light unless the host asks; "auto" follows the visitor's system (embed.css).
    default = site.get("/embed/theme.css").text
    assert "--calendar-accent: #a01f50" in default and "color-scheme: light" in default
    auto = site.get("/embed/theme.css?theme=auto").text
    assert "--calendar-accent: #a01f50" in auto and "color-scheme" not in auto


@pytest.mark.parametrize("accent", ["zzz", "12345g", "123abc;}body{color:red", "url(x)", "#12"])
def test_theme_stylesheet_refuses_other_accents(site: TestClient, accent: str) -> None:
    response = site.get("/embed/theme.css", params={"accent": accent, "theme": "evil}"})
    assert response.status_code == 200
    css = response.text
    assert "--calendar-accent: #a01f50" in css
    assert accent.lstrip("#") not in css and "evil" not in css
    assert css.count("{") == css.count("}")


# --- the web component ------------------------------------------------------------------------


def test_widget_script(site: TestClient) -> None:
    response = site.get("/widget.js", headers={"Origin": "https://partner.example.net"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in response.headers["cache-control"]
    assert 'customElements.define("calendar-events"' in response.text
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = site.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = site.get("/widget.js", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == response.content


# --- the embed builder ------------------------------------------------------------------------


def test_builder_page(site: TestClient) -> None:
    response, doc = get_page(site, "/embed")
    assert_strict_headers(response)  # the builder itself is not to be framed
    assert_safe_page(doc)
    assert one(doc, "html").attrs["lang"] == "fr"
    assert one(doc, "h1").words() == "Intégrer l'agenda à un site"
    form = doc.by_id("embed-form")
    assert form.attrs["method"] == "get" and form.attrs["action"] == "/embed"
    # Every control has its label.
    labels = {label.attrs.get("for") for label in doc.all("label")}
    controls = [n for n in form.iter() if n.tag in ("input", "select", "textarea")]
    assert {c.attrs.get("name") for c in controls} == set(CHOICES)
    for control in controls:
        if control.attrs.get("type") == "hidden":
            continue  # once=0, sent before the box: unticked, the form says so
        assert control.attrs.get("id") in labels, control.attrs
    for area in doc.all("textarea"):
        labelled = area.attrs.get("aria-labelledby")
        assert area.attrs.get("id") in labels or (labelled and doc.by_id(labelled).words())
    # The preview frame shows the iframe embed, the other preview the web component.
    frame = doc.by_id("preview-frame")
    assert frame.tag == "iframe" and frame.attrs.get("title")
    assert (frame.attrs["src"] or "").startswith("/embed/agenda?")
    assert get_page(site, frame.attrs["src"] or "")[0].status_code == 200
    assert doc.by_id("preview-widget").attrs["feed"] == "agenda"
    assert "/widget.js" in [s.attrs.get("src") for s in doc.all("script")]


def test_builder_snippets(site: TestClient) -> None:
    _, doc = get_page(site, "/embed")
    widget = doc.by_id("snippet-widget").text()
    assert f'<script src="{BASE}/widget.js" defer></script>' in widget
    assert '<calendar-events feed="agenda"' in widget
    parsed = snippet(doc, "snippet-widget")
    assert [s.attrs.get("src") for s in parsed.all("script")] == [f"{BASE}/widget.js"]
    assert one(parsed, "calendar-events").attrs["feed"] == "agenda"

    frame = doc.by_id("snippet-frame").text()
    assert f'<iframe src="{BASE}/embed/agenda?' in frame
    assert f'e.origin !== "{BASE}"' in frame
    assert "calendar-embed:height" in frame
    parsed = snippet(doc, "snippet-frame")
    src = one(parsed, "iframe").attrs["src"] or ""
    assert src == BASE + (doc.by_id("preview-frame").attrs["src"] or "")
    assert one(parsed, "iframe").attrs.get("title") == "Agenda solidaire"
    [listener] = parsed.all("script")
    assert "src" not in listener.attrs and "postMessage" not in listener.text()
    # The embed sends the message the listener waits for.
    assert "calendar-embed:height" in site.get("/static/embed.js").text


def test_builder_reflects_the_choices(site: TestClient) -> None:
    _, doc = get_page(site, "/embed?feed=culture&layout=cards&lang=en&accent=123abc")
    assert one(doc, "html").attrs["lang"] == "en"
    assert one(doc, "h1").words() == "Embed the calendar in a site"

    def selected(ident: str) -> str | None:
        [option] = [o for o in doc.by_id(ident).all("option") if "selected" in o.attrs]
        return option.attrs.get("value")

    assert (selected("feed"), selected("layout"), selected("lang")) == ("culture", "cards", "en")
    assert doc.by_id("accent").attrs["value"] == "#123abc"

    widget = one(snippet(doc, "snippet-widget"), "calendar-events").attrs
    assert (widget["feed"], widget["layout"], widget["lang"]) == ("culture", "cards", "en")
    assert "#123abc" in (widget.get("style") or "")

    frame = one(snippet(doc, "snippet-frame"), "iframe").attrs["src"] or ""
    assert frame.startswith(f"{BASE}/embed/culture?")
    chosen = query(frame)
    assert (chosen["layout"], chosen["lang"], chosen["accent"]) == ("cards", "en", "123abc")

    preview = doc.by_id("preview-frame").attrs["src"] or ""
    assert preview == frame.removeprefix(BASE)
    previewed = doc.by_id("preview-widget").attrs
    assert (previewed["feed"], previewed["layout"], previewed["lang"]) == ("culture", "cards", "en")
    assert previewed.get("data-accent") == "#123abc"

    _, shown = embed_page(site, preview)
    assert one(shown, "html").attrs["lang"] == "en"
    assert main_classes(shown) == ["calendar", "layout-cards"]
    assert "/embed/theme.css?accent=123abc&theme=light" in stylesheets(shown)


def test_builder_escapes_a_hostile_tag(site: TestClient) -> None:
    _, doc = get_page(site, "/embed?" + urlencode({"tag": HOSTILE_TAG}))
    assert_safe_page(doc)
    assert doc.by_id("tag").attrs["value"] == HOSTILE_TAG
    assert doc.by_id("preview-widget").attrs["tag"] == HOSTILE_TAG
    assert query(doc.by_id("preview-frame").attrs["src"] or "")["tag"] == HOSTILE_TAG
    # What a partner copies into their page is as safe as the page.
    widget = snippet(doc, "snippet-widget")
    assert [s.attrs.get("src") for s in widget.all("script")] == [f"{BASE}/widget.js"]
    assert all(s.text().strip() == "" for s in widget.all("script"))
    [element] = widget.all("calendar-events")
    assert element.attrs.get("tag") == HOSTILE_TAG
    frame = snippet(doc, "snippet-frame")
    assert query(one(frame, "iframe").attrs["src"] or "")["tag"] == HOSTILE_TAG
    [listener] = frame.all("script")
    assert "alert" not in listener.text()


# --- every page -------------------------------------------------------------------------------


def test_every_page_loads_only_our_resources(site: TestClient, editor: dict[str, str]) -> None:
    event = make(site, editor, 3, image=None)
    pages = ["/", f"/events/{event['slug']}", "/embed/agenda", "/embed", "/newsletter"]
    fetched: set[str] = set()
    for path in pages:
        for suffix in ("", "?lang=en"):
            response, doc = get_page(site, path + suffix)
            assert_safe_page(doc)
            assert_strict_headers(response, framed=path.startswith("/embed/"))
            for url in loaded(doc):
                assert url.startswith(("/static/", "/widget.js", "/embed/", "/favicon.ico")) or (
                    url.startswith("/newsletter/") and doc.all("iframe")
                ), f"{path}: {url}"
                fetched.add(url)
    assert {"/static/pages.css", "/static/embed.css", "/static/embed.js"} <= fetched
    assert {"/static/builder.js", "/widget.js"} <= fetched
    for url in sorted(fetched):
        assert site.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/pages.css", "text/css"),
        ("/static/embed.css", "text/css"),
        ("/static/embed.js", "javascript"),
        ("/static/builder.js", "javascript"),
    ],
)
def test_static_files(site: TestClient, path: str, media_type: str) -> None:
    response = site.get(path)
    assert response.status_code == 200
    assert media_type in response.headers["content-type"]
    text = response.text
    assert text.strip()
    # No web font, no import, nothing fetched from another site.
    assert "@import" not in text and "@font-face" not in text
    assert "http://" not in text and "https://" not in text


def test_embed_shows_the_next_events_months_ahead_each_series_once(
    site: TestClient, editor: dict[str, str]
) -> None:
    # The association's next events are four to eleven months away; a weekly drop-in session
    # begins first.
    make(
        site,
        editor,
        120,
        title=titled("Permanence"),
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=20"},
    )
    for n, days in enumerate((125, 160, 200, 250, 330)):
        make(site, editor, days, title=titled(f"Soirée {n}"))
    _, doc = embed_page(site, "/embed/agenda?limit=5")
    titles = [title for title, _ in listed(doc)]
    assert titles == ["Permanence (fr)", "Soirée 0 (fr)", *["Permanence (fr)"] * 3]
    _, doc = embed_page(site, "/embed/agenda?limit=5&once=1")
    titles = [title for title, _ in listed(doc)]
    assert titles == ["Permanence (fr)", *[f"Soirée {n} (fr)" for n in range(4)]]
    # A horizon shorter than the events shows none of them.
    _, doc = embed_page(site, "/embed/agenda?limit=5&horizon=60")
    assert listed(doc) == []
    # The API the widget reads gives the same with its ``once`` and its window.
    far = str(date.today() + timedelta(days=365))
    assert [t for t, _ in api_listing(site, limit="5", to=far, once="true", lang="fr")] == titles


def test_builder_suggests_each_series_once_and_a_light_theme(site: TestClient) -> None:
    _, doc = get_page(site, "/embed")
    parsed = snippet(doc, "snippet-widget")
    element = one(parsed, "calendar-events")
    assert "once" in element.attrs and "theme" not in element.attrs  # light is the default
    frame = one(snippet(doc, "snippet-frame"), "iframe").attrs["src"] or ""
    assert query(frame)["once"] == "1"
    [box] = [n for n in doc.all("input") if n.attrs.get("id") == "once"]
    assert "checked" in box.attrs
    # Unticked, the form says so (the hidden 0 comes first) and the snippets follow.
    _, doc = get_page(site, "/embed?once=0")
    element = one(snippet(doc, "snippet-widget"), "calendar-events")
    assert "once" not in element.attrs
    frame = one(snippet(doc, "snippet-frame"), "iframe").attrs["src"] or ""
    assert "once" not in query(frame)
    _, doc = get_page(site, "/embed?once=0&once=1&theme=auto")
    element = one(snippet(doc, "snippet-widget"), "calendar-events")
    assert "once" in element.attrs and element.attrs["theme"] == "auto"
