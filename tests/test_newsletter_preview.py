"""The newsletter preview page ``GET /newsletter``: pick a feed, a window and a language; see the
digest as an e-mail shows it; copy its HTML, text or Markdown; find the RSS and JSON feeds and
the merge tags for Mailchimp and Brevo. Read with the standard library's ``html.parser``."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from tests.factories import create
from tests.htmltree import Node, csp, parse

PARIS = ZoneInfo("Europe/Paris")
FORMATS = ("html", "txt", "md")
HOSTILE = "<script>alert(1)</script> *|UNSUB|* {{ contact.EMAIL }}"


# --- helpers ----------------------------------------------------------------------------------


def today() -> str:
    return datetime.now(PARIS).date().isoformat()


def in_days(days: int) -> str:
    return (datetime.now(PARIS).date() + timedelta(days=days)).isoformat()


def make(client: TestClient, editor: dict[str, str], days: int, **fields: Any) -> dict[str, Any]:
    start = datetime.combine(datetime.now(PARIS).date() + timedelta(days=days), clock_time(18, 30))
    end = start + timedelta(hours=3)
    return create(client, editor, start=start.isoformat(), end=end.isoformat(), **fields)


def page(client: TestClient, query: str = "", status: int = 200) -> tuple[Any, Node]:
    response = client.get(f"/newsletter{query}")
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response, parse(response.text)


def digest_query(first: str, last: str, lang: str = "fr", group: str = "day") -> str:
    return urlencode({"from": first, "to": last, "lang": lang, "group": group})


def control_value(doc: Node, ident: str) -> str | None:
    """What a form control shows: an input's value, a select's selected option."""
    node = doc.by_id(ident)
    if node.tag == "input":
        return node.attrs.get("value")
    selected = [o for o in node.all("option") if "selected" in o.attrs]
    assert len(selected) <= 1
    return selected[0].attrs.get("value") if selected else None


def code_blocks(doc: Node) -> list[str]:
    return [c.text() for pre in doc.all("pre") for c in pre.all("code")]


# --- the page ---------------------------------------------------------------------------------


def test_headers_are_strict(client: TestClient) -> None:
    response, doc = page(client)
    policy = csp(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    scripts = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert not [s for s in scripts if s in ("*", "https:", "http:", "data:")]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy.get("style-src", [])
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    # What the policy allows is all the page needs: no inline script, handler or style.
    for script in doc.all("script"):
        assert script.attrs.get("src", "").startswith("/static/"), script.attrs
        assert script.text().strip() == ""
    assert doc.all("style") == []
    for node in doc.iter():
        assert "style" not in node.attrs, node.tag
        assert not [a for a in node.attrs if a.startswith("on")], node.tag
        for name in ("href", "src", "action"):
            assert not (node.attrs.get(name) or "").lower().startswith("javascript:")


def test_default_page(client: TestClient, editor: dict[str, str]) -> None:
    make(client, editor, 3, image={"url": "https://example.org/a.jpg", "alt": {"fr": "Affiche"}})
    _, doc = page(client)
    [html] = doc.all("html")
    assert html.attrs["lang"] == "fr"
    [title] = doc.all("title")
    assert "newsletter" in title.text()
    [h1] = doc.all("h1")
    assert h1.text().strip() == "L'agenda pour la newsletter"
    [main] = doc.all("main")
    assert main.attrs.get("id") == "main"
    assert any(a.attrs.get("href") == "#main" for a in doc.all("a"))  # skip link

    # The choices, filled with the defaults: the first feed, from today for newsletter_days.
    [form] = doc.all("form")
    assert form.attrs["method"] == "get" and form.attrs["action"] == "/newsletter"
    assert control_value(doc, "feed") == "agenda"
    assert [o.attrs["value"] for o in doc.by_id("feed").all("option")] == [
        "agenda",
        "culture",
        "mobilisations",
        "rencontres",
    ]
    assert control_value(doc, "from") == today()
    assert control_value(doc, "to") == in_days(30)
    assert doc.by_id("from").attrs["type"] == doc.by_id("to").attrs["type"] == "date"
    assert control_value(doc, "lang") == "fr"
    assert control_value(doc, "group") == "day"
    assert form.all("button")[0].attrs.get("type") == "submit"


def test_every_control_is_labelled(client: TestClient, editor: dict[str, str]) -> None:
    make(client, editor, 3)
    _, doc = page(client)
    labels = {label.attrs.get("for"): label.text().strip() for label in doc.all("label")}
    controls = [n for n in doc.iter() if n.tag in ("input", "select", "textarea")]
    assert len(controls) == 8  # feed, from, to, lang, group and the three text areas
    for control in controls:
        ident = control.attrs.get("id")
        if control.tag == "textarea":
            named = control.attrs.get("aria-labelledby")
            assert named and doc.by_id(named).text().strip(), ident
        else:
            assert ident and labels.get(ident), f"<{control.tag} id={ident!r}> has no label"
            assert control.attrs.get("name") == ident
    ids = [n.attrs["id"] for n in doc.iter() if n.attrs.get("id")]
    assert len(ids) == len(set(ids))


def test_section_headings_are_words(client: TestClient, editor: dict[str, str]) -> None:
    make(client, editor, 3)
    _, doc = page(client)
    headings = {h.attrs.get("id"): h.text().strip() for h in doc.all("h2")}
    assert headings["preview-title"] == "Aperçu"
    assert headings["copy-title"] == "Copier le bloc"
    assert headings["auto-title"] == "Automatiser avec Mailchimp ou Brevo"
    for section in doc.all("section"):
        assert doc.by_id(section.attrs["aria-labelledby"] or "").tag == "h2"
    _, english = page(client, "?lang=en")
    assert {h.attrs.get("id"): h.text().strip() for h in english.all("h2")}["copy-title"] == (
        "Copy the section"
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_text_areas_hold_the_digests(client: TestClient, editor: dict[str, str], lang: str) -> None:
    make(client, editor, 3, image={"url": "https://example.org/a.jpg", "alt": {"fr": "Affiche"}})
    make(client, editor, 12, category="projection", summary="Un film « à voir » & débat <3")
    query = digest_query(today(), in_days(30), lang)
    _, doc = page(client, f"?lang={lang}")
    for fmt in FORMATS:
        area = doc.by_id(f"copy-{fmt}")
        assert area.tag == "textarea"
        assert "readonly" in area.attrs
        served = client.get(f"/newsletter/agenda.{fmt}?{query}")
        assert served.status_code == 200
        assert area.text() == served.text, fmt
        assert area.text().strip()
        # A copy button for it (shown by the script) and a download link.
        buttons = [b for b in doc.all("button") if b.attrs.get("data-copy") == f"copy-{fmt}"]
        assert len(buttons) == 1 and buttons[0].attrs.get("type") == "button"
        assert buttons[0].text().strip()
        downloads = [a for a in doc.all("a") if "download" in a.attrs]
        assert f"/newsletter/agenda.{fmt}?{query}" in [a.attrs["href"] for a in downloads]


def test_preview_frame(client: TestClient, editor: dict[str, str]) -> None:
    make(client, editor, 3)
    _, doc = page(client)
    [frame] = doc.all("iframe")
    assert frame.attrs.get("sandbox") is not None
    assert "allow-scripts" not in (frame.attrs["sandbox"] or "")
    assert (frame.attrs.get("title") or "").strip()
    src = frame.attrs["src"] or ""
    assert src == f"/newsletter/agenda.html?{digest_query(today(), in_days(30))}"
    shown = client.get(src)
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "text/html; charset=utf-8"
    # The digest may be framed by our own preview page, and by no other site.
    assert "frame-ancestors 'self'" in shown.headers.get("content-security-policy", "")
    assert "x-frame-options" not in shown.headers


def test_a_section_too_heavy_for_gmail_is_flagged(
    client: TestClient, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make(client, editor, 3)
    _, doc = page(client)
    assert not [p for p in doc.all("p") if "Gmail" in p.text()]
    # Three events weigh a few KB; lower the threshold under them.
    monkeypatch.setattr("calendar_service.web.public.preview.GMAIL_CLIPS_KB", 1)
    _, doc = page(client)
    [warning] = [p for p in doc.all("p") if "Gmail" in p.text()]
    assert "102" in warning.text()
    assert "Ko" in warning.text()


def test_feed_addresses_and_merge_tags(client: TestClient, editor: dict[str, str]) -> None:
    make(client, editor, 3)
    _, doc = page(client)
    rss, json_feed = "http://testserver/feeds/agenda.rss", "http://testserver/feeds/agenda.json"
    shown = [c.text() for dd in doc.all("dd") for c in dd.all("code")]
    assert shown == [rss, json_feed]
    for url in shown:
        assert client.get(url.removeprefix("http://testserver")).status_code == 200
    blocks = code_blocks(doc)
    mailchimp_rss = next(b for b in blocks if "*|RSSITEMS" in b)
    assert "*|RSSITEM:CONTENT_FULL|*" in mailchimp_rss
    assert "*|END:RSSITEMS|*" in mailchimp_rss
    feedblock = next(b for b in blocks if "*|FEEDBLOCK:" in b)
    assert f"*|FEEDBLOCK:{rss}|*" in feedblock
    assert "*|FEEDITEMS:" in feedblock
    assert "*|FEEDITEM:CONTENT_FULL|*" in feedblock
    assert feedblock.index("*|END:FEEDITEMS|*") < feedblock.index("*|END:FEEDBLOCK|*")
    brevo = next(b for b in blocks if "content_html" in b)
    assert "{% for " in brevo and "{% endfor %}" in brevo
    assert "{{" in brevo and "}}" in brevo


def test_the_brevo_snippet_uses_brevo_syntax(client: TestClient) -> None:
    """Brevo declares an external feed with ``<!--feed.NAME : {{feed.get("FEED")}}-->`` in the
    HTML editor or a ``feeds:`` / ``name:`` / ``source:`` header in the drag-and-drop editor's
    developer mode, then reads it as ``feed.NAME`` (developers.brevo.com, "Getting started
    with external feeds")."""
    _, doc = page(client)
    brevo = next(b for b in code_blocks(doc) if "content_html" in b)
    declared = 'feed.get("agenda")' in brevo or ("feeds:" in brevo and "source: agenda" in brevo)
    assert declared, brevo
    assert "includeFeed" not in brevo
    assert "in feed." in brevo and ".items" in brevo


def test_english_page(client: TestClient, editor: dict[str, str]) -> None:
    made = make(client, editor, 3)
    _, doc = page(client, "?lang=en")
    assert doc.all("html")[0].attrs["lang"] == "en"
    assert doc.all("h1")[0].text().strip() == "The calendar for your newsletter"
    assert control_value(doc, "lang") == "en"
    assert doc.by_id("feed").all("option")[0].text() == "Solidarity calendar"
    assert made["title"]["en"] in doc.by_id("copy-txt").text()
    assert made["title"]["fr"] not in doc.by_id("copy-txt").text()
    rss = "http://testserver/feeds/agenda.rss?lang=en"
    assert [c.text() for dd in doc.all("dd") for c in dd.all("code")] == [
        rss,
        "http://testserver/feeds/agenda.json?lang=en",
    ]
    assert any(f"*|FEEDBLOCK:{rss}|*" in b for b in code_blocks(doc))
    _, grouped = page(client, "?lang=en&feed=culture&group=category")
    assert control_value(grouped, "feed") == "culture"
    assert control_value(grouped, "group") == "category"
    query = digest_query(today(), in_days(30), "en", "category")
    assert grouped.all("iframe")[0].attrs["src"] == f"/newsletter/culture.html?{query}"


# --- mistakes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "typed", "named"),
    [
        ("from=2026-13-40", "from", "2026-13-40", ["2026-13-40"]),
        ("from=2027-03-10&to=2027-03-01", "to", "2027-03-01", ["2027-03-01", "2027-03-10"]),
        ("feed=nope", "feed", None, ["nope"]),
        ("group=weekly", "group", None, ["weekly"]),
        ("lang=de", "lang", None, ["de"]),
    ],
)
def test_a_mistake_is_shown_next_to_its_field(
    client: TestClient, query: str, field: str, typed: str | None, named: list[str]
) -> None:
    response, doc = page(client, f"?{query}", status=400)
    assert response.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in response.headers
    control = doc.by_id(field)
    assert control.attrs.get("aria-invalid") == "true", (field, control.attrs)
    described = control.attrs.get("aria-describedby")
    assert described, control.attrs
    message = doc.by_id(described)
    # Next to the field: in the same form field as its label.
    assert message.parent is control.parent
    for word in named:
        assert word in message.text(), message.text()
    if typed is not None:
        assert control_value(doc, field) == typed  # what the user typed stays
    # Only that field is marked.
    marked = [n.attrs.get("id") for n in doc.iter() if n.attrs.get("aria-invalid") == "true"]
    assert marked == [field]


def test_a_mistake_keeps_the_other_choices(client: TestClient) -> None:
    _, doc = page(client, "?feed=culture&from=demain&to=2027-01-10&lang=en&group=category", 400)
    assert control_value(doc, "from") == "demain"
    assert control_value(doc, "to") == "2027-01-10"
    assert control_value(doc, "feed") == "culture"
    assert control_value(doc, "lang") == "en"
    assert control_value(doc, "group") == "category"
    assert doc.all("html")[0].attrs["lang"] == "en"
    assert doc.all("iframe") == [] and doc.all("textarea") == []


# --- static files -----------------------------------------------------------------------------


def test_static_files_are_served(client: TestClient) -> None:
    _, doc = page(client)
    links = [n.attrs.get("href") for n in doc.all("link") if n.attrs.get("rel") == "stylesheet"]
    scripts = [n.attrs.get("src") for n in doc.all("script")]
    assert links == ["/static/pages.css"]
    assert scripts == ["/static/newsletter.js"]
    css = client.get("/static/pages.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.text.strip()
    script = client.get("/static/newsletter.js")
    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )
    assert "copy-button" in script.text
    assert client.get("/static/nope.js").status_code == 404


# --- hostile text -----------------------------------------------------------------------------


def test_hostile_text_is_escaped(client: TestClient, editor: dict[str, str]) -> None:
    make(
        client,
        editor,
        3,
        title={"fr": HOSTILE, "en": HOSTILE},
        summary={"fr": HOSTILE},
        image={"url": "https://example.org/a.jpg", "alt": {"fr": 'Il a dit "oui" <b>'}},
    )
    response, doc = page(client)
    assert "<script>alert" not in response.text
    assert [s.attrs.get("src") for s in doc.all("script")] == ["/static/newsletter.js"]
    assert doc.all("b") == []
    assert "<script>alert(1)</script>" in doc.by_id("copy-txt").text()  # as text
    assert "&lt;script&gt;alert(1)" in doc.by_id("copy-html").text()  # escaped in the HTML
    for query in (
        "?feed=<script>alert(1)</script>",
        '?from="><script>alert(1)</script>',
        "?group=<script>alert(1)</script>",
    ):
        bad = client.get(f"/newsletter{query}")
        assert bad.status_code == 400
        assert "<script>alert" not in bad.text
        assert [s.attrs.get("src") for s in parse(bad.text).all("script")] == [
            "/static/newsletter.js"
        ]
    _, typed = page(client, '?from="><script>alert(1)</script>', 400)
    assert control_value(typed, "from") == '"><script>alert(1)</script>'
