"""Feeds that e-mail tools pull: RSS 2.0 (Mailchimp's RSS-to-Email and ``*|FEEDBLOCK|*``) and
JSON Feed 1.1 (Brevo's data feeds). Pure functions from prepared items to bytes.

Each item carries the event's newsletter block (HTML for ``content:encoded`` and
``content_html``, plain text for ``content_text``), a short plain description, its image and its
category. Every text is neutralised: no merge tag or template instruction can come from users.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import Any
from xml.etree import ElementTree as ET

import orjson

from calendar_service.render.emailhtml import neutralise, neutralise_url, plain_title

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
SHORT_DESCRIPTION = 300


@dataclass(frozen=True)
class ChannelInfo:
    """What a feed says of itself."""

    title: str
    description: str
    language: str
    home_url: str
    self_url: str
    ttl_minutes: int
    built: datetime
    organisation: str
    logo_url: str | None = None


@dataclass(frozen=True)
class SyndicationItem:
    """One event as an e-mail tool receives it."""

    guid: str
    title: str
    link: str
    published: datetime
    modified: datetime
    summary: str
    html: str
    text: str
    category: str
    tags: tuple[str, ...] = ()
    image: dict[str, Any] | None = None
    event: dict[str, Any] = field(default_factory=dict)


def short_description(parts: list[str]) -> str:
    """A plain description of at most ``SHORT_DESCRIPTION`` characters, cut at a word, with
    no merge tag."""
    text = neutralise(" – ".join(p for p in parts if p))
    if len(text) <= SHORT_DESCRIPTION:
        return text
    return text[:SHORT_DESCRIPTION].rsplit(" ", 1)[0] + "…"


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def render_rss(channel: ChannelInfo, items: list[SyndicationItem]) -> bytes:
    """RSS 2.0 with the content, media, Atom and Dublin Core modules."""
    ET.register_namespace("content", CONTENT_NS)
    ET.register_namespace("media", MEDIA_NS)
    ET.register_namespace("atom", ATOM_NS)
    ET.register_namespace("dc", DC_NS)
    rss = ET.Element("rss", {"version": "2.0"})
    ch = ET.SubElement(rss, "channel")
    _text(ch, "title", plain_title(channel.title))
    _text(ch, "link", channel.home_url)
    _text(ch, "description", plain_title(channel.description or channel.title))
    _text(ch, "language", channel.language)
    _text(ch, "lastBuildDate", _rfc822(channel.built))
    _text(ch, "ttl", str(channel.ttl_minutes))
    _text(ch, "generator", "calendar-service")
    ET.SubElement(
        ch,
        f"{{{ATOM_NS}}}link",
        {"href": channel.self_url, "rel": "self", "type": "application/rss+xml"},
    )
    if channel.logo_url:
        image = ET.SubElement(ch, "image")
        _text(image, "url", channel.logo_url)
        _text(image, "title", plain_title(channel.title))
        _text(image, "link", channel.home_url)
    for item in items:
        it = ET.SubElement(ch, "item")
        _text(it, "title", plain_title(item.title))
        _text(it, "link", neutralise_url(item.link))
        _text(it, "guid", item.guid, isPermaLink="false")
        _text(it, "pubDate", _rfc822(item.published))
        # RSS descriptions are read as HTML: plain text goes in escaped.
        _text(it, "description", escape(neutralise(item.summary), quote=False))
        _text(it, f"{{{CONTENT_NS}}}encoded", item.html)
        _text(it, f"{{{DC_NS}}}creator", plain_title(channel.organisation))
        _text(it, "category", plain_title(item.category))
        for tag in item.tags:
            _text(it, "category", plain_title(tag))
        if item.image:
            media = ET.SubElement(
                it,
                f"{{{MEDIA_NS}}}content",
                {
                    "url": neutralise_url(item.image["url"]),
                    "medium": "image",
                    "width": str(item.image["width"]),
                    "height": str(item.image["height"]),
                    **({"type": item.image["type"]} if item.image.get("type") else {}),
                },
            )
            if item.image.get("alt"):
                _text(
                    media,
                    f"{{{MEDIA_NS}}}description",
                    plain_title(item.image["alt"]),
                    type="plain",
                )
    body: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _neutral(value: Any) -> Any:
    """Every string of a JSON value neutralised (URLs keep their meaning, percent-encoded)."""
    if isinstance(value, str):
        return (
            neutralise_url(value)
            if value.startswith(("https://", "http://"))
            else neutralise(value)
        )
    if isinstance(value, list):
        return [_neutral(v) for v in value]
    if isinstance(value, dict):
        return {k: _neutral(v) for k, v in value.items()}
    return value


def render_json_feed(channel: ChannelInfo, items: list[SyndicationItem]) -> bytes:
    """JSON Feed 1.1; each item's ``_event`` holds the structured event for templates."""
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": neutralise(channel.title),
        "home_page_url": channel.home_url,
        "feed_url": channel.self_url,
        "description": neutralise(channel.description or channel.title),
        "language": channel.language,
        "authors": [{"name": neutralise(channel.organisation)}],
        "items": [
            {
                "id": item.guid,
                "url": neutralise_url(item.link),
                "title": plain_title(item.title),
                "summary": neutralise(item.summary),
                "content_html": item.html,
                "content_text": item.text,
                "date_published": _iso(item.published),
                "date_modified": _iso(item.modified),
                "tags": [neutralise(t) for t in (item.category, *item.tags)],
                "language": channel.language,
                **({"image": neutralise_url(item.image["url"])} if item.image else {}),
                "_event": _neutral(item.event),
            }
            for item in items
        ],
    }
    if channel.logo_url:
        feed["icon"] = channel.logo_url
    return orjson.dumps(feed, option=orjson.OPT_INDENT_2) + b"\n"
