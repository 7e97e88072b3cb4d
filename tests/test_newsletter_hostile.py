"""Hostile text in an event (scripts, handlers, javascript: links, merge tags of Mailchimp and
Brevo, quotes in attributes) comes out inert in every newsletter format, and in the RSS and
JSON feeds that e-mail tools pull; the words stay visible."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree as ET

import pytest
from markdown_it import MarkdownIt
from starlette.testclient import TestClient

from tests.emailsafety import assert_email_safe
from tests.factories import create
from tests.test_newsletter import Element, parse_html

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ZWSP = "\u200b"
FORMATS = ("html", "txt", "md")
LANGS = ("fr", "en")
WINDOW = {"from": "2026-12-01", "to": "2026-12-31"}
CONTENT_NS = "{http://purl.org/rss/1.0/modules/content/}"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DELIMITERS = ("*|", "|*", "{{", "}}", "{%", "%}")
TITLE = "Concert <script>alert(1)</script> *|UNSUB|* {{ 7*7 }} \"guillemets\" 'apostrophes'"
SUMMARY = (
    "Résumé *|ARCHIVE|* {% if contact.VIP %}oui{% endif %} <img src=x onerror=alert(1)> *| seul"
)
DESCRIPTION = (
    "Texte <script>alert(1)</script> fin.\n\n"
    "<img src=x onerror=alert(1)>\n\n"
    "[x](javascript:alert(1)) *|UNSUB|* {{ contact.EMAIL }} {% if %} |* et *|ARCHIVE|*"
)
ORGANIZER = 'Org "><script>alert(2)</script> *|UNSUB|*'
PLACE = 'Salle <b onmouseover="alert(3)">Voltaire</b> {{ contact.EMAIL }}'
ADDRESS = "1 rue *|ARCHIVE|*"
PRICE = "{% if contact.VIP %}Gratuit{% endif %} *|"
PARTNER = "ALIMA {{ contact.FIRSTNAME }}"
ALT = "Affiche \"du\" concert 'solidaire' <b>gras</b> > *|UNSUB|* onerror=alert(1)"
URL = 'https://example.org/concert?a="><script>alert(1)</script>&b=*|UNSUB|*&c={{x}}'
IMAGE_URL = 'https://example.org/affiche.jpg?x="onerror=alert(1)&y=*|ARCHIVE|*'
REGISTRATION_URL = "https://example.org/billets?a=)](javascript:alert(1))"
# What a reader must still see (merge-tag delimiters broken by a zero-width space only).
VISIBLE = (TITLE, SUMMARY, ORGANIZER, PLACE, PRICE)

# What the HTML of a block may hold: anything else is a broken or smuggled attribute.
ALLOWED_TAGS = frozenset(
    {"table", "tbody", "tr", "td", "p", "h2", "h3", "h4", "a", "img", "div", "br", "span"}
    | {"strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "code"}
)
ALLOWED_ATTRIBUTES = frozenset(
    {"role", "cellpadding", "cellspacing", "border", "width", "height", "lang", "dir"}
    | {"style", "href", "src", "alt", "rel"}
)


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("public.newsletter", "cached", "public.syndication"):
        monkeypatch.setattr(f"calendar_service.web.{module}.utc_now", lambda: NOW)


def hostile(client: TestClient, editor: dict[str, str], **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": TITLE,
        "summary": SUMMARY,
        "description": DESCRIPTION,
        "start": "2026-12-15T18:30:00",
        "end": "2026-12-15T22:00:00",
        "organizer": {"name": ORGANIZER},
        "location": {"name": PLACE, "address": ADDRESS, "postal_code": "75011", "city": "Paris"},
        "partners": [{"name": PARTNER, "role": "beneficiary"}],
        "price": PRICE,
        "url": URL,
        "registration_url": REGISTRATION_URL,
        "image": {"url": IMAGE_URL, "alt": ALT, "width": 1200, "height": 800},
    }
    return create(client, editor, **{**values, **overrides})


def no_merge_tags(text: str, where: str) -> None:
    for delimiter in DELIMITERS:
        assert delimiter not in text, f"{where}: {delimiter!r} in {text[:300]!r}"


def seen(text: str) -> str:
    """Text as a reader sees it: zero-width spaces are invisible."""
    return text.replace(ZWSP, "")


def check_html(html: str, where: str, *, with_image: bool = True) -> str:
    """The HTML runs nothing, loads nothing but its image, keeps its attributes whole and the
    alt text intact; its visible text."""
    no_merge_tags(html, where)
    elements, text = parse_html(html)
    for element in elements:
        assert element.tag in ALLOWED_TAGS, f"{where}: <{element.tag}>"
        for name, value in element.attrs:
            assert name in ALLOWED_ATTRIBUTES, f"{where}: attribute {name!r} on <{element.tag}>"
            assert not name.startswith("on"), where
            if name in ("href", "src"):
                # An http(s) address, whatever its query says: nothing a click runs.
                assert value is not None and value.startswith(("https://", "http://")), value
                no_merge_tags(value, where)  # percent-encoded: the same address, no tag
    assert not [e for e in elements if e.tag == "script"], where
    images: list[Element] = [e for e in elements if e.tag == "img"]
    if with_image:
        (image,) = images
        assert seen(image.attr("alt") or "") == ALT, where
        assert dict(image.attrs).keys() == {"src", "alt", "width", "height", "style"}, where
        assert unquote(image.attr("src") or "").startswith("https://example.org/affiche.jpg?x=")
    else:
        assert not images, where
    return seen(text)


def check_text(text: str, where: str) -> None:
    no_merge_tags(text, where)


def check_markdown(text: str, where: str) -> str:
    """No raw tag or javascript: link survives, even for a renderer that lets HTML through;
    the text that renderer shows."""
    no_merge_tags(text, where)
    assert not re.search(r"(?<!\\)<\s*(script|img|b)\b", text, re.IGNORECASE), where
    # An escaped bracket (\\]) makes no link.
    link = re.search(r"(?<!\\)\](\(|:)\s*<?\s*javascript:", text, re.IGNORECASE)
    assert link is None, (
        f"{where}: a javascript: link in {text[link.start() - 60 : link.end() + 20]!r}"
    )
    rendered = MarkdownIt("commonmark", {"html": True}).render(text)
    elements, shown = parse_html(rendered)
    assert not [e for e in elements if e.tag in ("script", "b")], where
    for image in [e for e in elements if e.tag == "img"]:  # only the event's own image
        assert (image.attr("src") or "").startswith("https://example.org/"), where
    for element in elements:
        assert not [name for name, _ in element.attrs if name.startswith("on")], where
        href = element.attr("href")
        assert href is None or href.startswith(("https://", "http://")), (where, href)
    return seen(shown)


@SQLITE_ONLY
def test_a_hostile_block_and_digest_are_inert_in_every_format(
    client: TestClient, editor: dict[str, str]
) -> None:
    made = hostile(client, editor)
    for lang in LANGS:
        outputs = {
            "block": f"/newsletter/events/{made['slug']}",
            "digest": "/newsletter/agenda",
        }
        for kind, path in outputs.items():
            params = {"lang": lang, **(WINDOW if kind == "digest" else {})}
            got = {}
            for fmt in FORMATS:
                response = client.get(f"{path}.{fmt}", params=params)
                assert response.status_code == 200, response.text
                got[fmt] = response.content.decode()
            where = f"{kind} {lang}"
            html_text = check_html(got["html"], f"{where} html")
            assert_email_safe(got["html"], lang=lang)
            check_text(got["txt"], f"{where} txt")
            md_text = check_markdown(got["md"], f"{where} md")
            for shown, fmt in ((html_text, "html"), (seen(got["txt"]), "txt"), (md_text, "md")):
                for words in VISIBLE:
                    assert words in shown.replace("\u00a0", " "), (where, fmt, words)
                assert "UNSUB" in shown and "ARCHIVE" in shown, (where, fmt)
                assert "contact.EMAIL" in shown and "contact.FIRSTNAME" in shown, (where, fmt)
            if kind == "block":  # the description is in single blocks only
                for shown in (html_text, seen(got["txt"]), md_text):
                    assert "Texte" in shown and "fin." in shown and "|* et" in shown


@SQLITE_ONLY
def test_a_javascript_link_alone_is_not_a_markdown_link(
    client: TestClient, editor: dict[str, str]
) -> None:
    """Markdown that holds no raw HTML but a javascript: link (which markdown-it leaves as
    text) must not reach the Markdown block as a link another renderer would follow."""
    made = hostile(
        client,
        editor,
        description="Voir [le programme](javascript:alert(1)) ou [ici][r].\n\n"
        "[r]: javascript:alert(2)\n\n[Vrai lien](https://example.org/programme)",
        image=None,
    )
    md = client.get(f"/newsletter/events/{made['slug']}.md").text
    check_markdown(md, "md")
    assert "Vrai lien" in md and "le programme" in md
    html = client.get(f"/newsletter/events/{made['slug']}.html").text
    check_html(html, "html", with_image=False)
    assert "le programme" in parse_html(html)[1]


@SQLITE_ONLY
def test_a_hostile_alt_text_stays_one_attribute(client: TestClient, editor: dict[str, str]) -> None:
    for alt in ('"', "'", '" onerror="alert(1)', "' onload='alert(1)' x='", "<>&\"'", "a\"b'c<d>e"):
        made = hostile(client, editor, image={"url": "https://example.org/a.png", "alt": alt})
        html = client.get(f"/newsletter/events/{made['slug']}.html").text
        (image,) = [e for e in parse_html(html)[0] if e.tag == "img"]
        assert image.attr("alt") == alt
        assert sorted(name for name, _ in image.attrs) == ["alt", "height", "src", "style", "width"]
        md = client.get(f"/newsletter/events/{made['slug']}.md").text
        check_markdown(md, f"md alt {alt!r}")


@SQLITE_ONLY
def test_hostile_text_is_inert_in_the_rss_and_json_feeds(
    client: TestClient, editor: dict[str, str]
) -> None:
    hostile(client, editor)
    for lang in LANGS:
        rss = client.get("/feeds/agenda.rss", params={"lang": lang})
        assert rss.status_code == 200, rss.text
        no_merge_tags(rss.text, f"rss {lang}")
        (item,) = ET.fromstring(rss.content).iter("item")
        encoded = item.findtext(f"{CONTENT_NS}encoded") or ""
        shown = check_html(encoded, f"rss content:encoded {lang}")
        assert_email_safe(encoded, lang=lang)
        assert "UNSUB" in shown and seen(TITLE) in shown
        for tag in ("title", "description"):
            text = item.findtext(tag) or ""
            no_merge_tags(text, f"rss {tag}")
            assert "UNSUB" in text or "ARCHIVE" in text, (tag, text)

        feed = client.get("/feeds/agenda.json", params={"lang": lang})
        assert feed.status_code == 200, feed.text
        no_merge_tags(feed.text, f"json {lang}")
        (entry,) = json.loads(feed.content)["items"]
        shown = check_html(entry["content_html"], f"json content_html {lang}")
        assert_email_safe(entry["content_html"], lang=lang)
        assert "UNSUB" in shown and seen(TITLE) in shown
        check_text(entry["content_text"], f"json content_text {lang}")
        assert seen(TITLE) in seen(entry["content_text"])

        def strings(value: Any) -> list[str]:
            if isinstance(value, str):
                return [value]
            if isinstance(value, dict):
                return [s for v in value.values() for s in strings(v)]
            if isinstance(value, list):
                return [s for v in value for s in strings(v)]
            return []

        for text in strings(entry):
            no_merge_tags(text, "json string")
